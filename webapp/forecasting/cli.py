"""`flask forecast run [--sku SKU ...] [--as-of DATE] [--enqueue]`."""
from datetime import date

import click
from sqlalchemy import select

from webapp.background.dispatch import dispatch_pending, schedule_job
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.forecasting.models import DemandForecast
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
@click.option("--enqueue", is_flag=True, help="Hand the work to the RQ workers instead of computing here.")
@click.option("--if-none", "if_none", is_flag=True, help="Only when no forecast is stored yet (a first start).")
def run(skus: tuple[str, ...], as_of, enqueue: bool, if_none: bool):
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
        for product_id in product_ids:
            schedule_job("worker.jobs.forecasts.forecast_product", product_id, day.isoformat(),
                         job_id=f"forecast-{product_id}-{day.isoformat()}", queue=QUEUE_FORECASTS)
        if not skus:  # the whole shop: its unusual days too, as the nightly run does
            schedule_job("worker.jobs.forecasts.find_unusual_days", day.isoformat(),
                         job_id=f"unusual-days-{day.isoformat()}", queue=QUEUE_FORECASTS)
        db.session.commit()
        handed = dispatch_pending()
        click.echo(f"{len(product_ids)} forecast(s) as of {day} scheduled; {handed} handed to the workers.")
        return
    models = {"prophet": 0, "fallback": 0}
    with click.progressbar(product_ids, label=f"Forecasting as of {day}", show_pos=True) as bar:
        for product_id in bar:
            result = forecast_product(product_id, day)
            db.session.commit()
            models[result.model] += 1
    dispatch_pending()  # reorder advice emails
    click.echo(f"{len(product_ids)} product(s) forecast as of {day}: {models['prophet']} with Prophet, "
               f"{models['fallback']} with the fallback model.")
    if not skus:
        click.echo(f"{len(find_unusual_days(day))} unusual day(s) among the 28 before {day}.")
