"""`flask forecast run [--sku SKU ...] [--as-of DATE] [--refit-all] [--enqueue]`."""
from collections import Counter
from datetime import date

import click
from sqlalchemy import func, select

from webapp.background.dispatch import dispatch_pending, schedule_job
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.forecasting.models import DemandForecast
from webapp.forecasting.nightly import CHUNK_SIZE, forecast_products, schedule_forecasts
from webapp.forecasting.runs import active_product_ids, forecast_product
from webapp.forecasting.unusual_days import find_unusual_days
from webapp.timekeeping import shop_today
from worker import QUEUE_FORECASTS


@click.group()
def forecast():
    """Demand forecasts and reorder advice."""


@forecast.command("run")
@click.option("--sku", "skus", multiple=True, help="Only this product (repeatable); default: every active product.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Forecast as if this day (YYYY-MM-DD) were today, from the sales before it.")
@click.option("--refit-all", "refit_all", is_flag=True,
              help="Fit every product's model again, not only those the nightly rules pick.")
@click.option("--enqueue", is_flag=True, help="Hand the work to the RQ workers instead of computing here.")
@click.option("--if-none", "if_none", is_flag=True, help="Only when no forecast is stored yet (a first start).")
def run(skus: tuple[str, ...], as_of, refit_all: bool, enqueue: bool, if_none: bool):
    """Forecast demand and work out reorder advice."""
    if if_none and db.session.scalar(select(DemandForecast.id).limit(1)) is not None:
        click.echo("Forecasts exist already; the nightly run keeps them fresh.")
        return
    day: date = as_of.date() if as_of else shop_today()
    if skus:
        found = dict(db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())
        missing = [sku for sku in skus if sku not in found]
        if missing:
            raise click.BadParameter(f"no product with SKU {', '.join(missing)}", param_hint="--sku")
        product_ids = [found[sku] for sku in dict.fromkeys(skus)]
    else:
        product_ids = active_product_ids()
    if enqueue:
        if skus:
            for product_id in product_ids:
                schedule_job("worker.jobs.forecasts.forecast_product", product_id, day.isoformat(),
                             job_id=f"forecast-{product_id}-{day.isoformat()}", queue=QUEUE_FORECASTS)
        else:  # the whole shop, as the nightly run does: chunk jobs, then its unusual days
            schedule_forecasts(product_ids, day, refit_all)
            schedule_job("worker.jobs.forecasts.find_unusual_days", day.isoformat(),
                         job_id=f"unusual-days-{day.isoformat()}", queue=QUEUE_FORECASTS)
        db.session.commit()
        handed = dispatch_pending()
        click.echo(f"{len(product_ids)} forecast(s) as of {day} scheduled; {handed} job(s) handed to the workers.")
        return
    outcomes = Counter()
    with click.progressbar(length=len(product_ids), label=f"Forecasting as of {day}", show_pos=True) as bar:
        if skus:  # named products are always refitted
            for product_id in product_ids:
                outcomes["refitted" if forecast_product(product_id, day) else "gone"] += 1
                bar.update(1)
        for start in range(0, 0 if skus else len(product_ids), CHUNK_SIZE):
            chunk = product_ids[start:start + CHUNK_SIZE]
            outcomes.update(forecast_products(chunk, day, refit_all))
            bar.update(len(chunk))
    dispatch_pending()  # reorder advice emails
    models = dict(db.session.execute(select(DemandForecast.model, func.count()).where(
        DemandForecast.product_id.in_(product_ids)).group_by(DemandForecast.model)).all())
    click.echo(f"{len(product_ids)} product(s) forecast as of {day}: {models.get('prophet', 0)} with Prophet, "
               f"{models.get('fallback', 0)} with the fallback model; {outcomes['refitted']} refitted, "
               f"{outcomes['kept']} kept from an earlier fit, {outcomes['skipped']} already done.")
    if not skus:
        click.echo(f"{len(find_unusual_days(day))} unusual day(s) among the 28 before {day}.")
