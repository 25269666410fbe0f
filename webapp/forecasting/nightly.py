"""The nightly run: the active products in chunk jobs, each product refitted or kept (refits.py) on its own."""
import logging
from collections import Counter
from datetime import date

from sqlalchemy import select

from webapp.background.dispatch import schedule_job
from webapp.extensions import db
from webapp.forecasting.demand import daily_units_of
from webapp.forecasting.models import DemandForecast
from webapp.forecasting.runs import forecast_with_history
from webapp.sqlite_locking import reading_only

log = logging.getLogger(__name__)
# Products per nightly job: a fork, a query and the app's setup are shared by the chunk, while a chunk of first-night
# fits (two per product) stays well inside RQ's three-minute job timeout on a busy machine.
CHUNK_SIZE = 25


class SomeProductsFailed(Exception):
    """Raised after a chunk's other products are stored, so the job fails visibly and its retry redoes these."""


def forecast_products(product_ids: list[int], as_of: date, refit_all: bool = False) -> Counter:
    """A chunk of the nightly run: read the products' sales in one query, then refit or roll forward each,
    committing each on its own. Products already done for ``as_of`` (by an earlier try of this chunk) are skipped;
    one that fails does not stop the others, and the chunk then raises so that it is retried.
    Returns how many products were refitted, rolled forward ("kept") or skipped."""
    with reading_only():  # on SQLite the chunk's big read must not hold the write lock the other worker commits with
        histories = daily_units_of(product_ids, as_of)
        done = select(DemandForecast.product_id).where(DemandForecast.product_id.in_(product_ids),
                                                       DemandForecast.as_of == as_of)
        if refit_all:
            done = done.where(DemandForecast.fitted_on == as_of)
        done = set(db.session.scalars(done))
        db.session.commit()
    outcomes, failed = Counter(), []
    for product_id in product_ids:
        if product_id in done:
            outcomes["skipped"] += 1
            continue
        try:
            forecast = forecast_with_history(product_id, as_of, *histories[product_id],
                                             "a full refit" if refit_all else None)
        except Exception:  # noqa: BLE001 - one product's bad data must not cost the chunk's others their forecast
            db.session.rollback()
            log.exception("forecast of product %s failed", product_id)
            failed.append(product_id)
            continue
        outcomes["gone" if forecast is None else "refitted" if forecast.fitted_on == as_of else "kept"] += 1
    if failed:
        raise SomeProductsFailed(f"products {failed} failed; the others are stored")
    return outcomes


def schedule_forecasts(product_ids: list[int], as_of: date, refit_all: bool = False) -> int:
    """Schedule the products' forecasts as chunk jobs on the forecasts queue (after the caller's commit); the job
    ids name the day and the chunk's products, so a second start the same night schedules nothing new."""
    from worker import QUEUE_FORECASTS

    day, kind = as_of.isoformat(), "refit" if refit_all else "forecast"
    chunks = [product_ids[i:i + CHUNK_SIZE] for i in range(0, len(product_ids), CHUNK_SIZE)]
    for chunk in chunks:
        schedule_job("worker.jobs.forecasts.forecast_products", chunk, day, refit_all,
                     job_id=f"{kind}-{day}-{chunk[0]}-{chunk[-1]}-{len(chunk)}", queue=QUEUE_FORECASTS)
    return len(chunks)
