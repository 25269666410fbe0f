"""Unusual sales days: the last 28 days' orders and revenue set against a forecast made without them.

Prophet is fitted on the shop's daily orders (and revenue) up to 28 days ago and predicts those 28 days with a
99% interval; a day outside it is recorded in ``sales_anomalies``. A 99% band keeps false alarms to about one
day in a hundred, so what shows on the dashboard and in the digest is worth a look.

Sales are counts, and a busy weekend varies more than a quiet Tuesday, which Prophet's even-width band doesn't
know; so the model is fitted on square roots (which evens the spread out for counts) and squared back. Order
counts are whole numbers, so their band is widened to the whole numbers around it.
"""
import math
from datetime import date, timedelta

from sqlalchemy import delete

from webapp.extensions import db
from webapp.forecasting.demand import daily_orders_and_revenue
from webapp.forecasting.models import SalesAnomaly
from webapp.forecasting.predict import BACKTEST_DAYS, MIN_PROPHET_DAYS, predict

ANOMALY_INTERVAL = 0.99


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
