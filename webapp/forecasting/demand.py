"""Daily sales series for the forecasts: units of a product, or the shop's orders and revenue, per shop day
(cancelled and rejected orders left out)."""
from datetime import date, timedelta

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order, OrderLine
from webapp.timekeeping import shop_day_sql, utc_bounds

NOT_DEMAND = NOT_SALES
# Three years at most: enough for weekly and yearly patterns; older sales only slow the fit down.
MAX_HISTORY_DAYS = 3 * 365


def _per_day(query, measures: int, as_of: date) -> tuple[date | None, list[list[float]]]:
    """Run ``query`` (selecting a shop day then ``measures`` sums, grouped by day) and fill the days without
    sales with zeros, from the first day with any up to the day before ``as_of``."""
    return _filled({date.fromisoformat(str(day)[:10]): values for day, *values in db.session.execute(query)},
                   measures, as_of)


def _filled(by_day: dict, measures: int, as_of: date) -> tuple[date | None, list[list[float]]]:
    if not by_day:
        return None, [[] for _ in range(measures)]
    first = min(by_day)
    days = [first + timedelta(days=i) for i in range((as_of - first).days)]
    return first, [[by_day[d][m] if d in by_day else 0 for d in days] for m in range(measures)]


def _window(as_of: date):
    """The UTC bounds of the history before ``as_of``, and SQL for an order's shop day within them."""
    since, until = utc_bounds(as_of - timedelta(days=MAX_HISTORY_DAYS), as_of - timedelta(days=1))
    return since, until, shop_day_sql(Order.created_at, since, until).label("day")


def daily_units(product_id: int, as_of: date) -> tuple[date | None, list[int]]:
    """Units ordered per shop day, from the first day the product sold up to the day before ``as_of``;
    (None, []) when it never sold before ``as_of``. Daylight saving and half-hour zones count exactly."""
    since, until, day = _window(as_of)
    first, (units,) = _per_day(
        select(day, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status.not_in(NOT_DEMAND), Order.created_at >= since,
               Order.created_at < until)
        .group_by(day), 1, as_of)
    return first, [int(u) for u in units]


def daily_units_of(product_ids: list[int], as_of: date) -> dict[int, tuple[date | None, list[int]]]:
    """``daily_units`` of several products in one query (a nightly chunk reads its products' sales at once);
    a product that never sold before ``as_of`` maps to (None, [])."""
    since, until, day = _window(as_of)
    rows = db.session.execute(
        select(OrderLine.product_id, day, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(product_ids), Order.status.not_in(NOT_DEMAND), Order.created_at >= since,
               Order.created_at < until)
        .group_by(OrderLine.product_id, day))
    by_product: dict[int, dict] = {product_id: {} for product_id in product_ids}
    for product_id, shop_day, units in rows:
        by_product[product_id][date.fromisoformat(str(shop_day)[:10])] = (units,)
    series = {}
    for product_id, by_day in by_product.items():
        first, (units,) = _filled(by_day, 1, as_of)
        series[product_id] = (first, [int(u) for u in units])
    return series


def daily_orders_and_revenue(as_of: date) -> tuple[date | None, list[int], list[float]]:
    """The shop's orders and revenue per shop day, from the first order up to the day before ``as_of``."""
    since, until, day = _window(as_of)
    first, (orders, revenue) = _per_day(
        select(day, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.status.not_in(NOT_DEMAND), Order.created_at >= since, Order.created_at < until)
        .group_by(day), 2, as_of)
    return first, [int(n) for n in orders], [round(float(r), 2) for r in revenue]
