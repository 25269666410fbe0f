"""A product's forecast panel (run on demand, progress while the worker fits it) and the reorder list."""
import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from webapp.background.dispatch import schedule_job
from webapp.catalog.models import Product
from webapp.emails.outbox import queue_email
from webapp.extensions import db
from webapp.forecasting.views import current_advice, forecast_chart, forecast_of, reorder_rows, trust
from webapp.timekeeping import shop_today, utcnow
from webapp.views import render_page, spreadsheet_safe
from worker import QUEUE_FORECASTS, redis_connection

bp = Blueprint("forecasting", __name__)
JOB_ID = "forecast-{product_id}-now-{stamp}"


def _product_or_404(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        abort(404, f"There is no product with SKU {sku}.")
    return product


def panel_context(product: Product, job_id: str | None = None) -> dict:
    forecast = forecast_of(product)
    context = {"product": product, "forecast": forecast, "job_id": None, "job_stage": None, "job_error": None}
    if forecast is not None:
        context.update(advice=current_advice(product, forecast), chart=forecast_chart(forecast),
                       trust=trust(forecast), advice_today=shop_today())
    if job_id:
        context.update(_job_state(job_id))
    return context


def _job_state(job_id: str) -> dict:
    """Where an on-demand run is: still working (keep polling), failed (say why), or done."""
    if not job_id.startswith("forecast-") or len(job_id) > 80:
        return {}
    try:
        job = Job.fetch(job_id, connection=redis_connection())
        status = job.get_status()
    except NoSuchJobError:
        return {"job_id": job_id, "job_stage": "waiting for a worker"}
    except RedisError:
        return {"job_id": job_id, "job_stage": "waiting: the queue is unavailable, it runs when it is back"}
    if status == "finished":
        return {}
    if status in ("failed", "stopped", "canceled"):
        return {"job_error": "The forecast run failed; the Jobs page has the details."}
    return {"job_id": job_id, "job_stage": job.meta.get("stage") or "queued"}


@bp.get("/products/<sku>/forecast")
def product_forecast(sku: str):
    """The forecast panel of a product page (polls itself while a run is going)."""
    product = _product_or_404(sku)
    return render_page("forecasting/page.html", "forecasting/_panel.html",
                       **panel_context(product, request.args.get("job")))


@bp.post("/products/<sku>/forecast")
def run_forecast_now(sku: str):
    """Forecast this product now, in the worker."""
    product = _product_or_404(sku)
    # One run per product per minute: a double click (or two tabs) queues one fit, not two.
    job_id = JOB_ID.format(product_id=product.id, stamp=utcnow().strftime("%Y%m%d%H%M"))
    schedule_job("worker.jobs.forecasts.forecast_product", product.id, job_id=job_id, queue=QUEUE_FORECASTS)
    db.session.commit()
    if request.htmx:
        return render_page("forecasting/page.html", "forecasting/_panel.html", **panel_context(product, job_id))
    return redirect(url_for("forecasting.product_forecast", sku=sku, job=job_id), 303)


@bp.get("/reorder")
def reorder_list():
    """Every active product by urgency: when it runs out, when to reorder, how much."""
    return render_page("forecasting/reorder.html", "forecasting/_reorder_rows.html", rows=reorder_rows(),
                       today=shop_today())


EXPORT_COLUMNS = ("sku", "name", "available", "lead_time_days", "stockout_date", "stockout_earliest",
                  "stockout_latest", "reorder_by", "reorder_point", "safety_stock", "reorder_qty", "model",
                  "backtest_mase", "baseline_mase", "forecast_as_of")


@bp.get("/reorder/export.csv")
def export_reorder_list():
    """The reorder list as CSV, most urgent first (text cells made safe for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for product, forecast, advice in reorder_rows():
        if advice is None:
            writer.writerow([spreadsheet_safe(product.sku), spreadsheet_safe(product.name), product.available,
                             product.lead_time_days] + [""] * (len(EXPORT_COLUMNS) - 5)
                            + [forecast.as_of if forecast else ""])
            continue
        writer.writerow([
            spreadsheet_safe(product.sku), spreadsheet_safe(product.name), product.available, product.lead_time_days,
            advice.stockout_date or "", advice.stockout_earliest or "", advice.stockout_latest or "",
            advice.reorder_by or "", advice.reorder_point, advice.safety_stock, advice.reorder_qty, forecast.model,
            "" if forecast.backtest_mase is None else f"{forecast.backtest_mase:.3f}",
            "" if forecast.baseline_mase is None else f"{forecast.baseline_mase:.3f}", forecast.as_of,
        ])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reorder-list.csv"})


@bp.post("/reorder/<sku>/purchase-request")
def send_purchase_request(sku: str):
    """Email the supplier a purchase request for the recommended quantity (once a day per product)."""
    product = _product_or_404(sku)
    forecast = forecast_of(product)
    advice = current_advice(product, forecast) if forecast else None
    quantity = advice.reorder_qty if advice else 0
    if not product.supplier_email:
        flash(f"{product.name} has no supplier email: add one on the product first.", "error")
    elif advice is None:
        flash(f"{product.name} has no up-to-date forecast: run one on the product page first.", "error")
    elif quantity < 1:
        flash(f"The forecast says {product.name} needs no reorder now.", "error")
    else:
        queued = queue_email(kind="purchase_request", dedupe_key=f"purchase-request:{product.id}:{utcnow():%Y-%m-%d}",
                             to=product.supplier_email, subject=f"Purchase request: {product.name} ({product.sku})",
                             template="purchase_request", product=product, quantity=quantity)
        db.session.commit()
        if queued is None:
            flash(f"A purchase request for {product.name} was already sent today.", "error")
        else:
            flash(f"Purchase request for {quantity} × {product.name} queued to {product.supplier_email}.", "success")
    return redirect(url_for("forecasting.reorder_list"), 303)
