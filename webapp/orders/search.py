"""Finding orders by number, customer or SKU, shared by the board, the order list and the API."""
from sqlalchemy import Select, exists, func, or_, select

from webapp.customers.models import Customer
from webapp.orders.models import Order, OrderLine


def text_filter(text: str):
    """A condition matching orders whose number, customer name/email or any line's SKU contains ``text``."""
    pattern = f"%{text.strip().lower()}%"
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
