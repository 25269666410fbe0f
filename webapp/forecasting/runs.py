"""Run a product's forecast: history → model → backtest → reorder advice, stored as its current forecast."""
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from webapp.catalog.models import Product
from webapp.emails.outbox import queue_email
from webapp.extensions import db
from webapp.forecasting.demand import daily_units
from webapp.forecasting.models import DemandForecast
from webapp.forecasting.predict import HORIZON_DAYS, Prediction, backtest, choose_model, predict
from webapp.forecasting.reorder import advise, changed_materially
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, utcnow

# The backtest (a second fit) is redone when it is a week old, or when the model kind changed.
BACKTEST_EVERY_DAYS = 7


def no_progress(stage: str) -> None:
    pass


def forecast_product(product_id: int, as_of: date | None = None,
                     progress: Callable[[str], None] = no_progress) -> DemandForecast | None:
    """Forecast one product as of ``as_of`` (today by default) and store it; None if the product is gone.

    It commits: the history is read, the transaction ends, the model is fitted with no transaction open (so on
    SQLite no writer waits for a fit), and the result is written in a short transaction of its own.
    A product that never sold gets a zero forecast from the fallback model, which says so.
    """
    as_of = as_of or shop_today()
    progress("reading sales history")
    first, history = daily_units(product_id, as_of)
    db.session.commit()
    progress("fitting the model")
    if first is None:
        prediction = Prediction("fallback", "No sales yet: the forecast is zero until the product sells.",
                                [0.0] * HORIZON_DAYS, [0.0] * HORIZON_DAYS, [0.0] * HORIZON_DAYS)
    else:
        prediction = predict(history, as_of)
    model = choose_model(history)[0] if history else "fallback"
    stored = db.session.execute(
        select(DemandForecast.backtested_on, DemandForecast.model).where(DemandForecast.product_id == product_id)
    ).first()
    db.session.commit()
    check = None
    if stored is None or stored.model != model or stored.backtested_on is None \
            or not 0 <= (as_of - stored.backtested_on).days < BACKTEST_EVERY_DAYS:
        progress("backtesting on the last 28 days")
        check = backtest(history, as_of, model)
    progress("saving")
    product = db.session.get(Product, product_id)
    if product is None:
        db.session.rollback()
        return None
    settings = current_settings()
    advice = advise(as_of, prediction.yhat, prediction.lower, prediction.upper, product.available,
                    product.lead_time_days, float(settings.service_level_percent) / 100, settings.reorder_cover_days)
    forecast = db.session.scalar(select(DemandForecast).where(DemandForecast.product_id == product_id))
    if forecast is None:
        forecast = DemandForecast(product_id=product_id)
        db.session.add(forecast)
    forecast.as_of = as_of
    forecast.generated_at = utcnow()
    forecast.model = prediction.model
    forecast.model_note = prediction.note
    forecast.history_days = len(history)
    forecast.points = [
        {"date": (as_of + timedelta(days=i)).isoformat(), "yhat": round(y, 3), "lower": round(lo, 3),
         "upper": round(up, 3)}
        for i, (y, lo, up) in enumerate(zip(prediction.yhat, prediction.lower, prediction.upper, strict=True))
    ]
    if check is not None:
        forecast.backtested_on = as_of
        forecast.backtest_mae = check.mae
        forecast.backtest_mase = check.mase
        forecast.baseline_mae = check.baseline_mae
        forecast.baseline_mase = check.baseline_mase
        forecast.demand_shift = check.demand_shift
    forecast.available_at_run = product.available
    for name in ("stockout_date", "stockout_earliest", "stockout_latest", "reorder_by", "reorder_point",
                 "reorder_qty", "safety_stock"):
        setattr(forecast, name, getattr(advice, name))
    _tell_owner_if_changed(product, forecast, as_of)
    db.session.commit()
    return forecast


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
