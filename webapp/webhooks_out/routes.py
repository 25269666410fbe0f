"""Settings → Webhooks (owner only): the endpoints and what they receive, and the delivery log."""
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.views import page_from_query, render_page
from webapp.webhooks_out.models import DELIVERY_STATUSES, EVENTS, Webhook, WebhookDelivery
from webapp.webhooks_out.outbox import send_again

bp = Blueprint("webhooks_out", __name__, url_prefix="/settings/webhooks")
PAGE_SIZE = 50



def read_webhook(form) -> tuple[str, list[str], dict[str, str]]:
    """The URL and events of a new webhook, with errors keyed by the bad field."""
    errors = {}
    url = form.get("url", "").strip()
    parts = urlsplit(url) if len(url) <= 500 else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        errors["url"] = "Give the full address of the receiver, starting http:// or https:// (at most 500 characters)."
    events = form.getlist("events")
    if not events or any(event not in EVENTS for event in events):
        errors["events"] = f"Choose at least one of: {', '.join(EVENTS)}."
    return url, sorted(set(events), key=EVENTS.index) if not errors.get("events") else [], errors


def _page(errors=None, form=None, status=200):
    webhooks = db.session.scalars(select(Webhook).order_by(Webhook.id)).all()
    return render_page("webhooks_out/page.html", "webhooks_out/_webhooks.html", status=status, webhooks=webhooks,
                       events=EVENTS, errors=errors or {}, url=form.get("url", "") if form else "",
                       chosen=form.getlist("events") if form else EVENTS)


@bp.get("")
def list_webhooks():
    """The webhook endpoints, the events each receives and its signing secret."""
    return _page()


@bp.post("")
def add_webhook():
    """Add an endpoint; it gets its own signing secret."""
    url, events, errors = read_webhook(request.form)
    if errors:
        return _page(errors, request.form, status=422)
    db.session.add(Webhook(url=url, events=events, secret=secrets.token_hex(32)))
    db.session.commit()
    flash(f"Webhook to {url} added.", "success")
    return redirect(url_for("webhooks_out.list_webhooks"), 303)


@bp.post("/<int(max=2147483647):webhook_id>/delete")
def delete_webhook(webhook_id: int):
    """Remove an endpoint and its delivery log."""
    webhook = db.session.get(Webhook, webhook_id) or abort(404)
    db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.commit()
    flash(f"Webhook to {webhook.url} removed.", "success")
    return redirect(url_for("webhooks_out.list_webhooks"), 303)


@bp.get("/deliveries")
def deliveries():
    """Every delivery, newest first: status, response code, attempts and the last error."""
    errors: list[str] = []
    page = page_from_query(errors)
    status = request.args.get("status", "")
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
    if status in DELIVERY_STATUSES:
        query = query.where(WebhookDelivery.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_page("webhooks_out/deliveries.html", "webhooks_out/_deliveries.html", deliveries=rows, total=total,
                       page=page, pages=max(1, -(-total // PAGE_SIZE)), status_filter=status,
                       statuses=DELIVERY_STATUSES, errors=errors)


@bp.post("/deliveries/<int(max=2147483647):delivery_id>/send-again")
def send_delivery_again(delivery_id: int):
    """Send a failed delivery again."""
    delivery = db.session.get(WebhookDelivery, delivery_id) or abort(404)
    if send_again(delivery):
        db.session.commit()
        flash(f"Delivery {delivery.delivery_key} is queued to be sent again.", "success")
    else:
        flash("That delivery is not failed (any more); nothing to send again.", "error")
    return redirect(url_for("webhooks_out.deliveries"), 303)
