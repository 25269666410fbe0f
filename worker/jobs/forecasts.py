"""Demand forecasts: the nightly run in chunks of products (so two workers share it), one product on demand,
and unusual sales days."""
from datetime import date

from rq import get_current_job

from worker import QUEUE_FORECASTS
from worker.app import job_context


def _report(stage: str) -> None:
    """Tell the product page's progress panel what the job is doing."""
    job = get_current_job()
    if job is not None:
        job.meta["stage"] = stage
        job.save_meta()


def forecast_product(product_id: int, as_of: str | None = None) -> dict:
    """Forecast one product and store it with its reorder advice (and queue the advice email if it changed)."""
    from webapp.background.dispatch import dispatch_pending
    from webapp.extensions import db
    from webapp.forecasting.runs import forecast_product as run

    with job_context():
        forecast = run(product_id, date.fromisoformat(as_of) if as_of else None, progress=_report)
        db.session.commit()
        dispatch_pending()
        if forecast is None:
            return {"product_id": product_id, "skipped": "no such product"}
        return {"product_id": product_id, "model": forecast.model, "reorder_by": str(forecast.reorder_by)}


def forecast_products(product_ids: list[int], as_of: str, refit_all: bool = False) -> dict:
    """A chunk of the nightly run: each product refitted or its forecast kept and rolled forward (refits.py), each
    committed on its own; a retry skips the products already done for the day."""
    from webapp.background.dispatch import dispatch_pending
    from webapp.extensions import db
    from webapp.forecasting.nightly import forecast_products as run

    with job_context():
        try:
            outcomes = run(product_ids, date.fromisoformat(as_of), refit_all)
        finally:
            db.session.rollback()
            dispatch_pending()  # the reorder advice emails of the products done
        return {"as_of": as_of, **outcomes}


def forecast_every_product() -> dict:
    """The nightly run: the active products in chunk jobs on the forecasts queue, then the unusual-days check."""
    from webapp.background.dispatch import dispatch_pending, schedule_job
    from webapp.extensions import db
    from webapp.forecasting.nightly import schedule_forecasts
    from webapp.forecasting.runs import active_product_ids
    from webapp.timekeeping import shop_today

    with job_context():
        day = shop_today()
        ids = active_product_ids()
        chunks = schedule_forecasts(ids, day)
        schedule_job("worker.jobs.forecasts.find_unusual_days", day.isoformat(),
                     job_id=f"unusual-days-{day.isoformat()}", queue=QUEUE_FORECASTS)
        db.session.commit()
        dispatch_pending()
        return {"products": len(ids), "jobs": chunks, "as_of": day.isoformat()}


def find_unusual_days(as_of: str) -> dict:
    """Days among the last 28 whose orders or revenue fell outside the forecast made without them."""
    from webapp.extensions import db
    from webapp.forecasting.unusual_days import find_unusual_days as find

    with job_context():
        found = find(date.fromisoformat(as_of))
        db.session.commit()
        return {"as_of": as_of, "unusual_days": len(found)}
