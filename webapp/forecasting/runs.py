"""Run a product's forecast: history → model (fitted again or kept, see refits.py) → backtest → reorder advice,
stored as its current forecast."""
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from webapp.catalog.models import Product
from webapp.emails.outbox import queue_email
from webapp.extensions import db
from webapp.forecasting.demand import daily_units
from webapp.forecasting.models import DemandForecast
from webapp.forecasting.predict import HORIZON_DAYS, Prediction, backtest, choose_model, predict
from webapp.forecasting.refits import REFIT_EVERY_DAYS, refit_reason
from webapp.forecasting.reorder import advise, changed_materially
from webapp.settings.models import current_settings
from webapp.sqlite_locking import reading_only
from webapp.timekeeping import shop_today, utcnow

# The backtest (a second fit) is redone when it is a week old, or when the model kind changed.
BACKTEST_EVERY_DAYS = 7
# A fit forecasts a week beyond the horizon, so that kept for up to a week it still covers 90 days ahead.
FITTED_DAYS = HORIZON_DAYS + REFIT_EVERY_DAYS


def no_progress(stage: str) -> None:
    pass


def forecast_product(product_id: int, as_of: date | None = None,
                     progress: Callable[[str], None] = no_progress) -> DemandForecast | None:
    """Fit and forecast one product as of ``as_of`` (today by default) and store it; None if the product is gone.
    Asked for by name (the product page, the API, `--sku`), so it is always refitted."""
    as_of = as_of or shop_today()
    progress("reading sales history")
    first, history = daily_units(product_id, as_of)
    db.session.commit()
    return forecast_with_history(product_id, as_of, first, history, "asked for", progress)


def forecast_with_history(product_id: int, as_of: date, first: date | None, history: list[int], forced: str | None,
                          progress: Callable[[str], None] = no_progress) -> DemandForecast | None:
    """Refit (when ``forced`` says why, or the refit rules say so) or keep the product's model, and store the
    forecast with today's advice.

    No transaction is open while a model is fitted (so on SQLite no writer waits for a fit); the result is
    written in a short transaction of its own, and committed. A product that never sold gets a zero forecast
    from the fallback model, which says so.
    """
    model = choose_model(history)[0] if history else "fallback"
    with reading_only():
        stored = db.session.execute(
            select(DemandForecast.backtested_on, DemandForecast.model, DemandForecast.fitted_on, DemandForecast.points)
            .where(DemandForecast.product_id == product_id)
        ).first()
        db.session.commit()
    reason = forced or refit_reason(product_id, model, stored and stored.fitted_on, stored and stored.model,
                                    stored.points if stored else [], history, as_of)
    prediction = check = None
    if reason:
        progress("fitting the model")
        if first is None:
            zeros = [0.0] * FITTED_DAYS
            prediction = Prediction("fallback", "No sales yet: the forecast is zero until the product sells.",
                                    zeros, zeros, zeros)
        else:
            prediction = predict(history, as_of, FITTED_DAYS)
        if stored is None or stored.model != model or stored.backtested_on is None \
                or not 0 <= (as_of - stored.backtested_on).days < BACKTEST_EVERY_DAYS:
            progress("backtesting on the last 28 days")
            check = backtest(history, as_of, model)
    progress("saving")
    product = db.session.get(Product, product_id)
    if product is None:
        db.session.rollback()
        return None
    forecast = db.session.scalar(select(DemandForecast).where(DemandForecast.product_id == product_id))
    if forecast is None:
        forecast = DemandForecast(product_id=product_id)
        db.session.add(forecast)
    if prediction is not None:
        _store_fit(forecast, prediction, len(history), as_of, reason)
    else:
        age = (as_of - forecast.fitted_on).days
        forecast.refit_note = (f"Kept, not refitted, on {as_of:%d %b}: fitted {age} day{'s' if age > 1 else ''} "
                               f"before, and its sales since stayed within its range.")
    if check is not None:
        forecast.backtested_on = as_of
        forecast.backtest_mae = check.mae
        forecast.backtest_mase = check.mase
        forecast.baseline_mae = check.baseline_mae
        forecast.baseline_mase = check.baseline_mase
        forecast.demand_shift = check.demand_shift
    forecast.as_of = as_of
    forecast.generated_at = utcnow()
    settings = current_settings()
    ahead = forecast.points_from(as_of)
    advice = advise(as_of, [p["yhat"] for p in ahead], [p["lower"] for p in ahead], [p["upper"] for p in ahead],
                    product.available, product.lead_time_days, float(settings.service_level_percent) / 100,
                    settings.reorder_cover_days)
    forecast.available_at_run = product.available
    for name in ("stockout_date", "stockout_earliest", "stockout_latest", "reorder_by", "reorder_point",
                 "reorder_qty", "safety_stock"):
        setattr(forecast, name, getattr(advice, name))
    _tell_owner_if_changed(product, forecast, as_of)
    db.session.commit()
    return forecast


def _store_fit(forecast: DemandForecast, prediction: Prediction, history_days: int, as_of: date,
               reason: str) -> None:
    forecast.fitted_on = as_of
    forecast.refit_note = f"Refitted on {as_of:%d %b}: {reason}."
    forecast.model = prediction.model
    forecast.model_note = prediction.note
    forecast.history_days = history_days
    forecast.points = [
        {"date": (as_of + timedelta(days=i)).isoformat(), "yhat": round(y, 3), "lower": round(lo, 3),
         "upper": round(up, 3)}
        for i, (y, lo, up) in enumerate(zip(prediction.yhat, prediction.lower, prediction.upper, strict=True))
    ]


def _tell_owner_if_changed(product: Product, forecast: DemandForecast, as_of: date) -> None:
    """Email the owner when the advice changed materially; only for a run about today (a backdated `--as-of` run
    is an experiment, not news). Once no reorder is due, what was told is forgotten, so the next cycle's first
    advice is news again."""
    today = shop_today()
    if as_of != today:
        return
    due = forecast.reorder_by is not None and forecast.reorder_by <= today + timedelta(
        days=product.lead_time_days + 7)
    if not due:
        forecast.notified_reorder_point = forecast.notified_reorder_qty = forecast.notified_reorder_by = None
        return
    if not product.active or not changed_materially(forecast.notified_reorder_point, forecast.notified_reorder_qty,
                                                    forecast.notified_reorder_by, forecast, today,
                                                    product.lead_time_days):
        return
    settings = current_settings()
    if settings.email_reorder_advice and settings.shop_email:
        # Once a day per advice: a rerun with the same result is not news, a material change the same day is.
        key = f"reorder-advice:{product.id}:{today.isoformat()}:{forecast.reorder_point}:{forecast.reorder_qty}"
        queue_email(kind="reorder_advice", dedupe_key=key, to=settings.shop_email, template="reorder_advice",
                    subject=f"Reorder {product.name} by {forecast.reorder_by:%a %d %b}: {forecast.reorder_qty} units",
                    product=product, forecast=forecast, previous_point=forecast.notified_reorder_point,
                    previous_qty=forecast.notified_reorder_qty, previous_by=forecast.notified_reorder_by)
    forecast.notified_reorder_point = forecast.reorder_point
    forecast.notified_reorder_qty = forecast.reorder_qty
    forecast.notified_reorder_by = forecast.reorder_by
    forecast.notified_at = utcnow()


def active_product_ids() -> list[int]:
    return list(db.session.scalars(select(Product.id).where(Product.active.is_(True)).order_by(Product.id)))
