"""Unusual sales days: the last 28 days' orders and revenue set against a forecast made without them.

Prophet is fitted on the shop's daily orders (and revenue) up to 28 days ago and predicts those 28 days with a
99% interval; a day outside it is recorded in ``sales_anomalies``. A 99% band keeps false alarms to about one
day in a hundred, so what shows on the dashboard and in the digest is worth a look.

Sales are counts, and a busy weekend varies more than a quiet Tuesday, which Prophet's even-width band doesn't
know; so the model is fitted on square roots (which evens the spread out for counts) and squared back. Order
counts are whole numbers, so their band is widened to the whole numbers around it.
"""
import math
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select

from webapp.extensions import db
from webapp.forecasting.demand import MAX_HISTORY_DAYS, NOT_DEMAND, utc_start_of
from webapp.forecasting.models import SalesAnomaly
from webapp.forecasting.predict import BACKTEST_DAYS, MIN_PROPHET_DAYS, predict
from webapp.orders.models import Order
from webapp.timekeeping import shop_zone

ANOMALY_INTERVAL = 0.99


def daily_orders_and_revenue(as_of: date) -> tuple[date | None, list[int], list[float]]:
    """Orders and revenue per shop day, from the first order up to the day before ``as_of``."""
    hour = func.substr(func.cast(Order.created_at, db.String), 1, 13)
    rows = db.session.execute(
        select(hour, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.status.not_in(NOT_DEMAND), Order.created_at >= utc_start_of(as_of - timedelta(MAX_HISTORY_DAYS)),
               Order.created_at < utc_start_of(as_of))
        .group_by(hour)
    ).all()
    if not rows:
        return None, [], []
    zone = shop_zone()
    orders: dict[date, int] = {}
    revenue: dict[date, float] = {}
    for stamp, count, total in rows:
        day = datetime.strptime(stamp.replace("T", " "), "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(zone).date()
        orders[day] = orders.get(day, 0) + int(count)
        revenue[day] = revenue.get(day, 0.0) + float(total)
    first = min(orders)
    days = [first + timedelta(days=i) for i in range((as_of - first).days)]
    return first, [orders.get(d, 0) for d in days], [round(revenue.get(d, 0.0), 2) for d in days]


def find_unusual_days(as_of: date) -> list[SalesAnomaly]:
    """Recompute the anomalies of the 28 days before ``as_of`` (it needs 56 days before them) and commit.

    As with product forecasts, no transaction is open while the models are fitted.
    """
    first, orders, revenue = daily_orders_and_revenue(as_of)
    db.session.commit()
    if first is None or len(orders) < MIN_PROPHET_DAYS + BACKTEST_DAYS:
        return []
    window_start = as_of - timedelta(days=BACKTEST_DAYS)
    found = []
    for measure, series in (("orders", orders), ("revenue", revenue)):
        train, actual = series[:-BACKTEST_DAYS], series[-BACKTEST_DAYS:]
        expected = predict([math.sqrt(v) for v in train], window_start, BACKTEST_DAYS, model="prophet",
                           interval=ANOMALY_INTERVAL)
        for offset, value in enumerate(actual):
            low, high = expected.lower[offset] ** 2, expected.upper[offset] ** 2
            if measure == "orders":
                low, high = math.floor(low), math.ceil(high)
            if value < low or value > high:
                found.append(SalesAnomaly(day=window_start + timedelta(days=offset), measure=measure,
                                          actual=float(value), expected=round(expected.yhat[offset] ** 2, 2),
                                          lower=round(low, 2), upper=round(high, 2)))
    db.session.execute(delete(SalesAnomaly).where(SalesAnomaly.day >= window_start, SalesAnomaly.day < as_of))
    db.session.add_all(found)
    db.session.commit()
    return found
