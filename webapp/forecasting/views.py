"""What the pages show of a forecast: its chart, how far to trust it, and the reorder list's order."""
from datetime import date, timedelta

from sqlalchemy import select

from webapp import charts
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.forecasting.demand import daily_units
from webapp.forecasting.models import DemandForecast
from webapp.forecasting.reorder import ReorderAdvice, advise
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today

HISTORY_SHOWN_DAYS = 90


def forecast_of(product: Product) -> DemandForecast | None:
    return db.session.scalar(select(DemandForecast).where(DemandForecast.product_id == product.id))


def trust(forecast: DemandForecast) -> str:
    """One sentence on whether the backtest says to trust the forecast."""
    if forecast.backtest_mae is None:
        return "Not enough history to backtest yet."
    if forecast.backtest_mase is None or forecast.baseline_mase is None:
        return f"Off by {forecast.backtest_mae:.1f} units a day on the last 28 days."
    if forecast.backtest_mase < forecast.baseline_mase:
        return (f"Beat \"same as last week\" on the last 28 days (MASE {forecast.backtest_mase:.2f} against "
                f"{forecast.baseline_mase:.2f}): reasonably trustworthy.")
    return (f"Did not beat \"same as last week\" on the last 28 days (MASE {forecast.backtest_mase:.2f} against "
            f"{forecast.baseline_mase:.2f}): treat it as a rough guide.")


def forecast_chart(forecast: DemandForecast) -> dict:
    """Units sold per day (last 90 days), the forecast with its 80% band, and a marker on the stock-out day."""
    as_of = forecast.as_of
    first, history = daily_units(forecast.product_id, as_of)
    shown = history[-HISTORY_SHOWN_DAYS:]
    past_days = [as_of - timedelta(days=len(shown) - i) for i in range(len(shown))]
    future = forecast.points_from(as_of)
    labels = [d.isoformat() for d in past_days] + [p["date"] for p in future]
    gap = [None] * len(shown)
    stockout = forecast.stockout_date.isoformat() if forecast.stockout_date else None
    marker = [None] * len(shown) + [p["yhat"] if p["date"] == stockout else None for p in future]
    return charts.line_chart(labels, [
        charts.series("Sold", shown + [None] * len(future), 0),
        charts.series("Forecast", gap + [p["yhat"] for p in future], 1),
        charts.series("80% range", gap + [p["upper"] for p in future], 1, borderWidth=0, fill="+1",
                      backgroundColor="rgba(224,123,57,0.18)"),
        charts.series("80% range, low", gap + [p["lower"] for p in future], 1, borderWidth=0, fill=False,
                      legend=False),
        charts.series("Runs out", marker, 3, showLine=False, pointRadius=7, pointStyle="triangle"),
    ], y_title="units per day")


# A forecast older than this is out of date: its advice is not given (the nightly run should have replaced it).
STALE_AFTER_DAYS = 7


def is_stale(forecast: DemandForecast) -> bool:
    return (shop_today() - forecast.as_of).days > STALE_AFTER_DAYS


def current_advice(product: Product, forecast: DemandForecast) -> ReorderAdvice | None:
    """The advice for today's stock: the stored forecast's remaining days against what is available now, so
    stock received (or sold) since the nightly run counts at once; None when the forecast is out of date."""
    if is_stale(forecast):
        return None
    settings = current_settings()
    today = shop_today()
    start = max(today, forecast.as_of)
    points = forecast.points_from(start)
    return advise(start, [p["yhat"] for p in points], [p["lower"] for p in points],
                  [p["upper"] for p in points], product.available, product.lead_time_days,
                  float(settings.service_level_percent) / 100, settings.reorder_cover_days)


def urgency_key(row: tuple) -> tuple:
    """Soonest reorder-by first; products that need no reorder within the horizon, then unforecast ones, last."""
    product, forecast, advice = row
    if advice is None:
        return (2, date.max, product.sku)
    if advice.reorder_by is None:
        return (1, date.max, product.sku)
    return (0, advice.reorder_by, product.sku)


def reorder_rows() -> list[tuple[Product, DemandForecast | None, ReorderAdvice | None]]:
    """Every active product with its forecast and today's advice (None when out of date), most urgent first."""
    rows = db.session.execute(
        select(Product, DemandForecast).outerjoin(DemandForecast, DemandForecast.product_id == Product.id)
        .where(Product.active.is_(True))
    ).all()
    rows = [(p, f, current_advice(p, f) if f else None) for p, f in rows]
    return sorted(rows, key=urgency_key)
