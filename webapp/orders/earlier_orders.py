"""Each order's earlier orders: how many orders that earn the same customer placed before it (by placing time, then
id), their total, and when the latest of them was placed, stored on the order so the dashboard's unusual-orders check
and its median days between orders read the range's orders alone instead of every customer's whole history.

The stored figures are a cache, never the only truth. A NULL means "not worked out", and it also makes every later
order of that customer untrusted: the dashboard works those out live (``unusual_orders``), so a write that bypasses
this module is slower to read, never wrong, as long as it leaves its orders' figures NULL (bulk inserts do).
ORM writes are kept exact at flush; bulk writes call ``fill_earlier_orders`` afterwards.

A new order placed after all of its customer's others (intake, nearly always) gets its figures in its own INSERT: none
to read for a customer made in the same flush, else one aggregate over the customer's orders. Anything else (an order
placed back in time, several new orders in one flush, a change of status, total, time or customer) works out the
customer's orders from that point on after the flush.
"""
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, Integer, and_, bindparam, case, cast, event, func, inspect, literal, or_, select, update
from sqlalchemy.orm import Session, object_session

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order
from webapp.timekeeping import utcnow

ORDERS = Order.__table__
EARNING = Order.status.not_in(NOT_SALES)
# Changes to an order that change what its customer's later orders count.
COUNTED = ("status", "total", "created_at", "customer_id")
# The stored columns, and their bind names in the update (a bind may not be named as a column).
COLUMNS = ("earlier_orders", "earlier_total", "previous_order_at", "days_since_previous_order")
STORED = tuple(f"new_{column}" for column in COLUMNS)
LOCKED_AT_ONCE = 5000  # customers per locking statement, well within PostgreSQL's bound parameters
PENDING = "earlier_orders_since"  # session.info key: customer id -> the first placing time to work out again
LONE_ORDER = "earlier_orders_lone_order"  # session.info key: this flush inserts exactly one order


def _forget(order: Order) -> None:
    order.earlier_orders = order.earlier_total = order.previous_order_at = order.days_since_previous_order = None


def _work_out_from(order: Order, customer_id: int, since: datetime) -> None:
    pending = object_session(order).info.setdefault(PENDING, {})
    pending[customer_id] = min(since, pending.get(customer_id, since))


@event.listens_for(Session, "before_flush")
def _count_new_orders(session, context, instances) -> None:
    session.info[LONE_ORDER] = sum(isinstance(obj, Order) for obj in session.new) == 1


@event.listens_for(Order, "before_insert")
def _new_order(mapper, connection, order: Order) -> None:
    if order.created_at is None:  # the column default would set it only after this event
        order.created_at = utcnow()
    # With several new orders in one flush, one may be another's earlier order: those are worked out after it.
    if not (object_session(order).info.get(LONE_ORDER) and _figures_at_insert(connection, order)):
        _forget(order)
        _work_out_from(order, order.customer_id, order.created_at)


def _figures_at_insert(connection, order: Order) -> bool:
    """Set a new order's figures for its INSERT; False when orders of its customer placed at or after it exist,
    whose figures it changes (the caller then works them all out after the flush)."""
    customer = order.__dict__.get("customer")
    if customer is not None and inspect(customer).pending:  # made in this flush: no other order can be theirs
        order.earlier_orders, order.earlier_total = 0, Decimal("0.00")
        order.previous_order_at = order.days_since_previous_order = None
        return True
    _take_turns(connection, [order.customer_id])
    before = and_(ORDERS.c.created_at < order.created_at, ORDERS.c.status.not_in(NOT_SALES))
    count, total, previous_at, later = connection.execute(
        select(func.count(case((before, ORDERS.c.id))), func.coalesce(func.sum(case((before, ORDERS.c.total))), 0),
               func.max(case((before, ORDERS.c.created_at))),
               func.count(case((ORDERS.c.created_at >= order.created_at, ORDERS.c.id))))
        .where(ORDERS.c.customer_id == order.customer_id)).one()
    if later:
        return False
    order.earlier_orders, order.earlier_total, order.previous_order_at = count, total, previous_at
    order.days_since_previous_order = (
        (order.created_at - previous_at).total_seconds() / 86400 if previous_at else None)
    return True


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
        _forget(order)
    _work_out_from(order, order.customer_id, order.created_at)


@event.listens_for(Order, "before_delete")
def _deleted_order(mapper, connection, order: Order) -> None:
    _work_out_from(order, order.customer_id, order.created_at)


@event.listens_for(Session, "after_flush")
def _work_out_after_flush(session, context) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        work_out(session.connection(), pending)


BEFORE_EACH = {"partition_by": Order.customer_id, "order_by": (Order.created_at, Order.id), "rows": (None, -1)}


def _running_figures(*where):
    """Each order with its stored figures and, worked out by windows over its customer's orders before it, the
    count, total and latest placing time of the earning ones."""
    return (select(Order.id, Order.created_at, Order.earlier_orders, Order.earlier_total, Order.previous_order_at,
                   Order.days_since_previous_order,
                   func.count(case((EARNING, Order.id))).over(**BEFORE_EACH),
                   func.coalesce(func.sum(case((EARNING, Order.total))).over(**BEFORE_EACH), 0),
                   func.max(case((EARNING, Order.created_at))).over(**BEFORE_EACH))
            .where(*where))


def _changes(rows, base_count=0, base_total=0, base_at=None) -> list[dict]:
    """The orders among ``rows`` whose stored figures differ from the worked-out ones, ready for _store."""
    changed = []
    for order_id, at, *stored, count, total, previous_at in rows:
        previous_at = previous_at or base_at
        since_previous = (at - previous_at).total_seconds() / 86400 if previous_at else None
        worked_out = [base_count + count, base_total + total, previous_at, since_previous]
        if stored != worked_out:
            changed.append({"order_id": order_id, **dict(zip(STORED, worked_out))})
    return changed


def _store(connection, changed: list[dict]) -> int:
    if changed:
        # A plain table update naming updated_at, so its onupdate leaves it alone: this is not a change to the order.
        connection.execute(update(ORDERS).where(ORDERS.c.id == bindparam("order_id"))
                           .values(updated_at=ORDERS.c.updated_at,
                                   **{column: bindparam(name) for column, name in zip(COLUMNS, STORED)}), changed)
    return len(changed)


def _take_turns(connection, customers) -> None:
    """On PostgreSQL, one transaction at a time works out a customer's orders, after the one before has committed,
    so each sees the other's new orders (locked in id order: two never wait on each other). SQLite writers take
    turns already (BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(Customer.id).where(Customer.id.in_(customers)).order_by(Customer.id)
                           .with_for_update(key_share=True))


def work_out(connection, since: dict[int, datetime | None]) -> int:
    """Store the earlier orders of each customer's orders placed from ``since[customer]`` on (None: all of them);
    returns how many orders changed."""
    customers = sorted(since)
    for i in range(0, len(customers), LOCKED_AT_ONCE):
        _take_turns(connection, customers[i:i + LOCKED_AT_ONCE])
    changed = []
    for customer_id, start in since.items():
        mine = Order.customer_id == customer_id
        base = (0, 0, None)
        if start is not None:
            base = connection.execute(
                select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0), func.max(Order.created_at))
                .where(mine, Order.created_at < start, EARNING)).one()
        rows = connection.execute(_running_figures(mine, *([Order.created_at >= start] if start is not None else [])))
        changed += _changes(rows, *base)
    return _store(connection, changed)


def fill_earlier_orders(connection=None, customers: Iterable[int] = ()) -> int:
    """Work out the earlier orders wherever they are missing (after bulk writes), with every other order of the
    same customers, and those of every order of ``customers``; returns how many orders changed.

    One UPDATE ... FROM over those customers' whole histories (a window per customer), written by the database
    itself: a history import brings thousands of customers at once, and reading every order out to write it back
    cost more than the import's inserts. The figures are the ones ``work_out`` stores, to the last bit.
    """
    connection = connection or db.session.connection()
    customers = sorted(customers)
    changed = sum(fill_earlier_orders(connection, customers[i:i + LOCKED_AT_ONCE])
                  for i in range(LOCKED_AT_ONCE, len(customers), LOCKED_AT_ONCE))  # each IN (...) within bounds
    customers = customers[:LOCKED_AT_ONCE]
    postgres = connection.dialect.name == "postgresql"
    unknown = ORDERS.alias("unknown")
    affected = select(unknown.c.customer_id).where(unknown.c.earlier_orders.is_(None))
    if customers:
        affected = affected.union(select(Customer.id).where(Customer.id.in_(customers)))
    else:
        affected = affected.distinct()
    _take_turns(connection, affected)
    mine = ORDERS.alias("mine")
    earning = mine.c.status.not_in(NOT_SALES)
    before_each = {"partition_by": mine.c.customer_id, "order_by": (mine.c.created_at, mine.c.id), "rows": (None, -1)}
    total = func.coalesce(func.sum(case((earning, mine.c.total))).over(**before_each), 0)
    running = (select(mine.c.id,
                      func.count(case((earning, mine.c.id))).over(**before_each).label("count"),
                      (total if postgres else func.round(total, 2)).label("total"),  # SQLite sums in floats
                      func.max(case((earning, mine.c.created_at))).over(**before_each).label("previous_at"))
               .where(mine.c.customer_id.in_(affected)).subquery("running"))
    figures = {"earlier_orders": running.c.count, "earlier_total": running.c.total,
               "previous_order_at": running.c.previous_at,
               "days_since_previous_order": _days_between(ORDERS.c.created_at, running.c.previous_at, postgres)}
    differs = or_(*(ORDERS.c[column].is_distinct_from(value) for column, value in figures.items()))
    return changed + connection.execute(update(ORDERS).where(ORDERS.c.id == running.c.id, differs)
                                        .values(updated_at=ORDERS.c.updated_at, **figures)).rowcount


def _days_between(later, earlier, postgres: bool):
    """SQL for (later - earlier).total_seconds() / 86400 as Python works it out: whole microseconds, divided in
    floating point, first by a million, then by 86,400."""
    if postgres:
        microseconds = func.round(func.extract("epoch", later - earlier) * 1_000_000)
    else:  # SQLite holds times as 'YYYY-MM-DD HH:MM:SS.ffffff'
        seconds = cast(func.strftime("%s", later), Integer) - cast(func.strftime("%s", earlier), Integer)
        microseconds = (seconds * 1_000_000 + cast(func.substr(later, 21), Integer)
                        - cast(func.substr(earlier, 21), Integer))
    return cast(microseconds, Float) / literal(1_000_000.0, Float) / literal(86_400.0, Float)
