"""Each order's earlier orders: how many orders that earn the same customer placed before it (by placing time, then
id) and their total, stored on the order so the dashboard's unusual-orders check reads the range's orders alone
instead of every customer's whole history on every request.

The stored figures are a cache, never the only truth. A NULL means "not worked out", and it also makes every later
order of that customer untrusted: the dashboard works those out live (``unusual_orders``), so a write that bypasses
this module is slower to read, never wrong, as long as it leaves its orders' figures NULL (bulk inserts do).
ORM writes are kept exact at flush; bulk writes call ``fill_earlier_orders`` afterwards.
"""
from datetime import datetime

from sqlalchemy import bindparam, case, event, func, inspect, select, update
from sqlalchemy.orm import Session, object_session

from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order
from webapp.timekeeping import utcnow

ORDERS = Order.__table__
EARNING = Order.status.not_in(NOT_SALES)
# Changes to an order that change what its customer's later orders count.
COUNTED = ("status", "total", "created_at", "customer_id")
PENDING = "earlier_orders_since"  # session.info key: customer id -> the first placing time to work out again


def _work_out_from(order: Order, customer_id: int, since: datetime) -> None:
    pending = object_session(order).info.setdefault(PENDING, {})
    pending[customer_id] = min(since, pending.get(customer_id, since))


@event.listens_for(Order, "before_insert")
def _new_order(mapper, connection, order: Order) -> None:
    if order.created_at is None:  # the column default would set it only after this event
        order.created_at = utcnow()
    order.earlier_orders = order.earlier_total = None
    _work_out_from(order, order.customer_id, order.created_at)


@event.listens_for(Order, "before_update")
def _changed_order(mapper, connection, order: Order) -> None:
    state = inspect(order)
    if not any(state.attrs[name].history.has_changes() for name in COUNTED):
        return
    status = state.attrs.status.history
    if not (state.attrs.total.history.has_changes() or state.attrs.created_at.history.has_changes()
            or state.attrs.customer_id.history.has_changes()) and status.deleted:
        if (status.deleted[0] in NOT_SALES) == (order.status in NOT_SALES):
            return  # moved along the workflow: still earning (or still not), so nothing later changes
    if state.attrs.created_at.history.has_changes() or state.attrs.customer_id.history.has_changes():
        # Its old place in its (old) customer's history: read from the row, as an expired attribute has no history.
        old_customer, old_at = connection.execute(
            select(ORDERS.c.customer_id, ORDERS.c.created_at).where(ORDERS.c.id == order.id)).one()
        _work_out_from(order, old_customer, old_at)
        order.earlier_orders = order.earlier_total = None
    _work_out_from(order, order.customer_id, order.created_at)


@event.listens_for(Order, "before_delete")
def _deleted_order(mapper, connection, order: Order) -> None:
    _work_out_from(order, order.customer_id, order.created_at)


@event.listens_for(Session, "after_flush")
def _work_out_after_flush(session, context) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        work_out(session.connection(), pending)


def work_out(connection, since: dict[int, datetime | None]) -> int:
    """Store the earlier orders of each customer's orders placed from ``since[customer]`` on (None: all of them);
    returns how many orders changed."""
    before_each = {"partition_by": Order.customer_id, "order_by": (Order.created_at, Order.id), "rows": (None, -1)}
    changed = []
    for customer_id, start in since.items():
        mine = Order.customer_id == customer_id
        base_count, base_total = 0, 0
        if start is not None:
            base_count, base_total = connection.execute(
                select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
                .where(mine, Order.created_at < start, EARNING)).one()
        rows = connection.execute(
            select(Order.id, Order.earlier_orders, Order.earlier_total,
                   func.count(case((EARNING, Order.id))).over(**before_each),
                   func.coalesce(func.sum(case((EARNING, Order.total))).over(**before_each), 0))
            .where(mine, *([Order.created_at >= start] if start is not None else []))).all()
        for order_id, stored_count, stored_total, count, total in rows:
            count, total = base_count + count, base_total + total
            if (stored_count, stored_total) != (count, total):
                changed.append({"order_id": order_id, "earlier_count": count, "earlier_spent": total})
    if changed:
        # A plain table update naming updated_at, so its onupdate leaves it alone: this is not a change to the order.
        connection.execute(update(ORDERS).where(ORDERS.c.id == bindparam("order_id"))
                           .values(earlier_orders=bindparam("earlier_count"), earlier_total=bindparam("earlier_spent"),
                                   updated_at=ORDERS.c.updated_at), changed)
    return len(changed)


def fill_earlier_orders(connection=None) -> int:
    """Work out the earlier orders wherever they are missing (after bulk writes), with every later order of the
    same customers; returns how many orders changed."""
    connection = connection or db.session.connection()
    since = dict(connection.execute(select(Order.customer_id, func.min(Order.created_at))
                                    .where(Order.earlier_orders.is_(None)).group_by(Order.customer_id)).all())
    return work_out(connection, since)
