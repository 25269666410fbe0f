"""Each order's shop day: the date it was placed in the shop's time zone, stored on the order so the dashboard
counts orders per day from an index instead of working out a local date for every order on every request.

The stored day is a cache, never the only truth: the dashboard works the day out wherever it is NULL
(webapp.analytics.daily_sales). It is set when an order is written through the ORM, filled after writes that bypass it
(history imports, the demo shop), and worked out again for every order when the shop's time zone changes.
"""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from sqlalchemy import event, func, inspect, select, update

from webapp.extensions import db
from webapp.orders.models import Order
from webapp.settings.models import ShopSettings
from webapp.timekeeping import shop_day_sql, shop_zone, utcnow

# Plain table updates, naming updated_at so its onupdate leaves it alone: a day worked out is not a change to the order.
ORDERS = Order.__table__


def shop_day_of(placed_at: datetime, zone: ZoneInfo) -> date:
    """The date in ``zone`` of a naive UTC time."""
    return placed_at.replace(tzinfo=UTC).astimezone(zone).date()


def _zone(connection, settings: ShopSettings | None = None) -> ZoneInfo:
    """The shop's zone as the flushing connection sees it (a query through the session is not allowed mid-flush)."""
    if settings is not None:
        name = settings.time_zone
    elif has_app_context() and "shop_zone" in g:
        return g.shop_zone
    else:
        name = connection.scalar(select(ShopSettings.time_zone).where(ShopSettings.id == 1))
    if has_app_context():
        return ZoneInfo(name or current_app.config["SHOP_TIMEZONE"])
    return ZoneInfo(name) if name else shop_zone()


@event.listens_for(Order, "before_insert")
@event.listens_for(Order, "before_update")
def _set_shop_day(mapper, connection, order: Order) -> None:
    if order.created_at is None:  # the column default would set it only after this event
        order.created_at = utcnow()
    if order.shop_day is None or inspect(order).attrs.created_at.history.has_changes():
        order.shop_day = shop_day_of(order.created_at, _zone(connection))


def fill_shop_days(connection=None, zone: ZoneInfo | None = None) -> int:
    """Store the shop day of every order that has none (after bulk writes); returns how many were filled."""
    connection = connection or db.session.connection()
    first, last = connection.execute(select(func.min(Order.created_at), func.max(Order.created_at))
                                     .where(Order.shop_day.is_(None))).one()
    if first is None:
        return 0
    day = shop_day_sql(Order.created_at, first, last + timedelta(seconds=1), zone or _zone(connection),
                       postgres=connection.dialect.name == "postgresql")
    return connection.execute(update(ORDERS).where(ORDERS.c.shop_day.is_(None))
                              .values(shop_day=day, updated_at=ORDERS.c.updated_at)).rowcount


@event.listens_for(ShopSettings, "after_insert")
@event.listens_for(ShopSettings, "after_update")
def _days_follow_the_time_zone(mapper, connection, settings: ShopSettings) -> None:
    """A new time zone moves orders placed near midnight to another day: every stored day is worked out again."""
    if not inspect(settings).attrs.time_zone.history.has_changes():
        return
    connection.execute(update(ORDERS).values(shop_day=None, updated_at=ORDERS.c.updated_at))
    fill_shop_days(connection, _zone(connection, settings))
