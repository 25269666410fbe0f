"""A product's daily demand: units ordered per shop day, from order lines (cancelled and rejected orders left out)."""
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.timekeeping import shop_zone

NOT_DEMAND = ("cancelled", "rejected")
# Two years is plenty for weekly and yearly patterns; older sales only slow the fit down.
MAX_HISTORY_DAYS = 3 * 365


def utc_start_of(day: date) -> datetime:
    """Midnight of a shop day, as the naive UTC the database stores."""
    return datetime.combine(day, time.min, tzinfo=shop_zone()).astimezone(UTC).replace(tzinfo=None)


def daily_units(product_id: int, as_of: date) -> tuple[date | None, list[int]]:
    """Units ordered per shop day, from the first day the product sold up to the day before ``as_of``.

    Returns (first day, units per day with zeros filled in); (None, []) when it never sold before ``as_of``.
    Orders are summed per UTC hour in SQL and placed on shop days here, so the time zone's daylight saving
    rules are applied exactly without dialect-specific date functions.
    """
    since = utc_start_of(as_of - timedelta(days=MAX_HISTORY_DAYS))
    until = utc_start_of(as_of)
    hour = func.substr(func.cast(Order.created_at, db.String), 1, 13)  # 'YYYY-MM-DD HH' on both databases
    rows = db.session.execute(
        select(hour, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status.not_in(NOT_DEMAND),
               Order.created_at >= since, Order.created_at < until)
        .group_by(hour)
    ).all()
    if not rows:
        return None, []
    zone = shop_zone()
    by_day: dict[date, int] = {}
    for stamp, units in rows:
        moment = datetime.strptime(stamp.replace("T", " "), "%Y-%m-%d %H").replace(tzinfo=UTC)
        day = moment.astimezone(zone).date()
        by_day[day] = by_day.get(day, 0) + int(units)
    first = min(by_day)
    span = (as_of - first).days
    return first, [by_day.get(first + timedelta(days=i), 0) for i in range(span)]
