"""Each order's hours from being placed to being shipped, stored on the order so the dashboard's mean and median
hours to ship read a number from an index (the median in value order) instead of working out dates for every order.

A cache, never the only truth: set when an order is written through the ORM and filled after writes that bypass it;
the dashboard works the hours out live wherever a shipped order has none (``kpis.figures``).
"""
from sqlalchemy import event, inspect, update

from webapp.extensions import db
from webapp.orders.models import Order
from webapp.timekeeping import hours_between_sql, utcnow

ORDERS = Order.__table__


def hours_to_ship(order: Order) -> float | None:
    """The hours from placing to shipping, None while not shipped."""
    if order.shipped_at is None:
        return None
    return (order.shipped_at - order.created_at).total_seconds() / 3600


@event.listens_for(Order, "before_insert")
def _new_order(mapper, connection, order: Order) -> None:
    if order.created_at is None:  # the column default would set it only after this event
        order.created_at = utcnow()
    order.hours_to_ship = hours_to_ship(order)


@event.listens_for(Order, "before_update")
def _changed_order(mapper, connection, order: Order) -> None:
    state = inspect(order)
    if state.attrs.shipped_at.history.has_changes() or state.attrs.created_at.history.has_changes():
        order.hours_to_ship = hours_to_ship(order)


def fill_hours_to_ship(connection=None) -> int:
    """Store the hours to ship of every shipped order that has none (after bulk writes); returns how many."""
    connection = connection or db.session.connection()
    missing = ORDERS.c.hours_to_ship.is_(None) & ORDERS.c.shipped_at.is_not(None)
    hours = hours_between_sql(ORDERS.c.shipped_at, ORDERS.c.created_at,
                              postgres=connection.dialect.name == "postgresql")
    return connection.execute(update(ORDERS).where(missing)
                              .values(hours_to_ship=hours, updated_at=ORDERS.c.updated_at)).rowcount
