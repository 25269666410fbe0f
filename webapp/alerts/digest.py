"""The owner's daily digest: what needs doing today, yesterday's sales, what looked unusual, and stock at risk."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.alerts.models import Alert
from webapp.analytics.anomalies import unusual
from webapp.backups.service import latest_backup
from webapp.catalog.models import Product
from webapp.emails.outbox import queue_email
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, shop_zone, utc_bounds

WORK = (("Needs attention", ("pending", "on_hold")), ("To pack", ("confirmed",)), ("Packing", ("processing",)))


def digest_context() -> dict:
    today = shop_today()
    counts = dict(db.session.execute(select(Order.status, func.count(Order.id)).group_by(Order.status)).all())
    yesterday = today - timedelta(days=1)
    start, end = utc_bounds(yesterday, yesterday)
    orders, revenue = db.session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.created_at >= start, Order.created_at < end, Order.status.not_in(NOT_SALES))
    ).one()
    return {
        "today": today,
        "work": [(title, sum(counts.get(status, 0) for status in statuses)) for title, statuses in WORK],
        "due_today": db.session.scalars(
            select(Order).where(Order.due_date == today, Order.status.in_(("pending", "on_hold", "confirmed",
                                                                            "processing")))
            .order_by(Order.id)).all(),
        "overdue": db.session.scalars(
            select(Alert).where(Alert.kind.in_(("overdue", "at_risk")), Alert.cleared_at.is_(None))
            .order_by(Alert.kind.desc(), Alert.id)).all(),
        "yesterday_orders": orders,
        "yesterday_revenue": revenue,
        # Yesterday's unusual days and orders, and the products whose demand shifted in the latest forecast.
        "unusual": unusual(yesterday, yesterday),
        "low_stock": db.session.scalars(
            select(Product).where(Product.active.is_(True),
                                  Product.on_hand - Product.reserved <= Product.reorder_point)
            .order_by(Product.on_hand - Product.reserved)).all(),
        "backup": latest_backup(),
    }


DIGEST_HOUR = 6


def send_daily_digest(now: datetime | None = None) -> bool:
    """Queue today's digest to the shop's email, once a day from 06:00 shop time (the job runs hourly);
    False when switched off, too early, or already sent today."""
    settings = current_settings()
    if not settings.email_daily_digest or not settings.shop_email:
        return False
    if (now or datetime.now(shop_zone())).hour < DIGEST_HOUR:
        return False
    context = digest_context()
    queued = queue_email(kind="digest", dedupe_key=f"digest:{context['today'].isoformat()}", to=settings.shop_email,
                         subject=f"Today at {settings.shop_name}: {context['today']:%A %d %B}", template="digest",
                         **context)
    return queued is not None
