"""Finding orders by number, customer or SKU, shared by the board, the order list and the API."""
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine


def text_pattern(text: str) -> str:
    """The LIKE pattern text_filter matches ``text`` with."""
    return f"%{text.strip().lower()}%"


def text_filter(text):
    """A condition matching orders whose number, customer name/email or any line's SKU contains ``text`` (or,
    given a bind parameter, the text_pattern it will hold)."""
    pattern = text_pattern(text) if isinstance(text, str) else text
    return or_(
        func.lower(Order.number).like(pattern),
        Order.customer_id.in_(
            select(Customer.id).where(or_(func.lower(Customer.name).like(pattern),
                                          func.lower(Customer.email).like(pattern)))
        ),
        exists().where(OrderLine.order_id == Order.id, func.lower(OrderLine.sku).like(pattern)),
    )


def filtered_orders(*, statuses: tuple[str, ...] | None = None, channel: str | None = None,
                    priority: str | None = None, text: str | None = None) -> Select:
    """SELECT of orders matching the given filters, newest first."""
    query = select(Order)
    if statuses:
        query = query.where(Order.status.in_(statuses))
    if channel:
        query = query.where(Order.channel == channel)
    if priority:
        query = query.where(Order.priority == priority)
    if text and text.strip():
        query = query.where(text_filter(text))
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def fill_item_counts(orders: list[Order]) -> None:
    """Item counts for just these orders in one grouped query (as a column of the card query the database would
    compute it for every order of the status before picking the first few)."""
    if not orders:
        return
    counts = dict(db.session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_([order.id for order in orders]))
        .group_by(OrderLine.order_id)
    ).all())
    for order in orders:
        set_committed_value(order, "item_count", counts.get(order.id, 0))
