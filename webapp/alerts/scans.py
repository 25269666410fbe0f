"""The periodic checks that raise and clear alerts, and the emails they send (once per alert)."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.alerts.models import Alert
from webapp.catalog.models import Product
from webapp.emails.outbox import queue_email
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.orders.search import fill_item_counts
from webapp.orders.ship_dates import OPEN_STATUSES, build_model, predict_ship
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, utcnow
from webapp.views import app_path
from webapp.webhooks_out import events as webhooks


def open_alerts(kind: str) -> dict[str, Alert]:
    return {alert.subject: alert for alert in db.session.scalars(
        select(Alert).where(Alert.kind == kind, Alert.cleared_at.is_(None)))}


def reconcile(kind: str, current: dict[str, tuple[str, str]]) -> list[Alert]:
    """Open an alert for each subject in ``current`` ({subject: (message, link)}) that has none, clear the open
    alerts whose condition went away; returns the newly raised ones."""
    existing = open_alerts(kind)
    raised = []
    for subject, (message, link) in current.items():
        if subject not in existing:
            alert = Alert(kind=kind, subject=subject, message=message, link=link)
            db.session.add(alert)
            raised.append(alert)
    now = utcnow()
    for subject, alert in existing.items():
        if subject not in current:
            alert.cleared_at = now
    db.session.flush()
    return raised


def reorder_quantity(product: Product) -> int:
    """The forecast's advice for today's stock; without an up-to-date forecast, enough to get back to twice the
    reorder point."""
    from webapp.forecasting.views import current_advice, forecast_of

    forecast = forecast_of(product)
    if forecast is not None:
        advice = current_advice(product, forecast)
        if advice is not None and advice.reorder_qty > 0:
            return advice.reorder_qty
    return max(1, 2 * max(product.reorder_point, 1) - product.available)


def scan_low_stock() -> int:
    """Products whose available stock is at or below their reorder point."""
    settings = current_settings()
    low = db.session.scalars(
        select(Product).where(Product.active.is_(True), Product.on_hand - Product.reserved <= Product.reorder_point)
        .order_by(Product.sku)
    ).all()
    current = {
        f"product:{p.sku}": (f"{p.name} ({p.sku}) is low: {p.available} available, reorder point {p.reorder_point}.",
                             app_path("catalog.product_detail", sku=p.sku))
        for p in low
    }
    raised = reconcile("low_stock", current)
    by_subject = {f"product:{p.sku}": p for p in low}
    for alert in raised:
        product = by_subject[alert.subject]
        webhooks.low_stock_alert_raised(product)
        if settings.email_low_stock_alert and settings.shop_email:
            queue_email(kind="low_stock", dedupe_key=f"low-stock:{alert.id}", to=settings.shop_email,
                        subject=f"Low stock: {product.name} ({product.available} left)", template="low_stock",
                        product=product, alert=alert, quantity=reorder_quantity(product))
        if settings.email_supplier_purchase_request and product.supplier_email:
            queue_email(kind="purchase_request", dedupe_key=f"purchase-request:{alert.id}",
                        to=product.supplier_email, subject=f"Purchase request: {product.name} ({product.sku})",
                        template="purchase_request", product=product, quantity=reorder_quantity(product))
    return len(raised)


def scan_overdue() -> int:
    """Open orders whose due date has passed ("overdue"), and those predicted to ship after their due date
    ("at_risk", from the shop's own processing times: webapp/orders/ship_dates.py)."""
    settings = current_settings()
    today = shop_today()
    now = utcnow()
    dated = db.session.scalars(
        select(Order).where(Order.status.in_(OPEN_STATUSES), Order.due_date.is_not(None))
        .options(joinedload(Order.customer)).order_by(Order.due_date, Order.id)
    ).all()
    fill_item_counts(dated)
    model = build_model(now)  # fresh, not the web processes' cached copy: an alert and its email follow from it

    def entry(order: Order, text: str) -> tuple[str, str]:
        return f"{order.number} for {order.customer.name} {text}", app_path("orders.order_detail", number=order.number)

    late = {f"order:{o.number}": entry(o, f"was due {o.due_date:%d %b} and is still {o.status.replace('_', ' ')}.")
            for o in dated if o.due_date < today}
    at_risk = {}
    for order in dated:
        if order.due_date < today:
            continue
        prediction = predict_ship(order, model, now)
        if prediction.misses(order.due_date):
            at_risk[f"order:{order.number}"] = entry(
                order, f"is due {order.due_date:%a} {order.due_date.day} {order.due_date:%b} but "
                       f"{prediction.label} (still {order.status.replace('_', ' ')}).")
    raised = reconcile("overdue", late) + reconcile("at_risk", at_risk)
    if raised and settings.email_overdue_alert and settings.shop_email:
        queue_email(kind="overdue", dedupe_key=f"overdue:{raised[0].id}", to=settings.shop_email,
                    subject=f"{len(raised)} order(s) are late or at risk", template="overdue", alerts=raised)
    return len(raised)


def record_failed_jobs(failed: dict[str, str]) -> int:
    """``failed`` is {job id: last error line} from RQ's failed-job registries."""
    settings = current_settings()
    current = {f"job:{job_id}": (f"Background job {job_id} failed: {error}", app_path("jobs.list_jobs"))
               for job_id, error in failed.items()}
    raised = reconcile("failed_job", current)
    if raised and settings.email_failed_job_alert and settings.shop_email:
        queue_email(kind="failed_job", dedupe_key=f"failed-jobs:{raised[0].id}", to=settings.shop_email,
                    subject=f"{len(raised)} background job(s) failed", template="failed_jobs", alerts=raised)
    return len(raised)
