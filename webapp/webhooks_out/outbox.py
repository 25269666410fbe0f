"""Webhook events: a delivery row per subscribed endpoint in the caller's transaction, sent by a job after the
commit, signed, with retries, and visible on the delivery log."""
import hashlib
import hmac
import http.client
import json
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select, update

from webapp.background.dispatch import schedule_job
from webapp.extensions import db
from webapp.timekeeping import utcnow
from webapp.webhooks_out.models import Webhook, WebhookDelivery
from worker import QUEUE_DEFAULT

TIMEOUT_SECONDS = 10
# A send that began this long ago without an outcome was cut off (the worker died): it may be claimed again.
STUCK_AFTER = timedelta(seconds=TIMEOUT_SECONDS * 6)
USER_AGENT = "SoloOMS-Webhooks/1"


def signature(secret: str, body: bytes) -> str:
    """The X-SoloOMS-Signature header: 'sha256=' and the hex HMAC-SHA256 of the body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


_ACTIVE_WEBHOOKS = select(Webhook.id, Webhook.events).where(Webhook.active.is_(True)).order_by(Webhook.id)


def _subscribers(event: str) -> list[int]:
    # Ids and events only (one small query), looked up once per transaction: intake is the hot path, records two
    # events per order, and most shops have no webhook.
    transaction = db.session().get_transaction()
    cached = db.session.info.get("webhook_subscribers")
    if cached is None or cached[0] is not transaction:
        rows = db.session.execute(_ACTIVE_WEBHOOKS).all()
        cached = (transaction, [(row.id, row.events or []) for row in rows])
        db.session.info["webhook_subscribers"] = cached
    return [webhook_id for webhook_id, events in cached[1] if event in events]


def subscribed(event: str) -> bool:
    """Some active webhook wants ``event``."""
    return bool(_subscribers(event))


def _json_default(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def emit(event: str, data: dict) -> list[WebhookDelivery]:
    """Record ``event`` for every active webhook that wants it and schedule the sending after the commit."""
    deliveries = []
    for webhook_id in _subscribers(event):
        key = str(uuid.uuid4())
        created_at = utcnow()
        body = json.dumps({"event": event, "delivery_id": key, "created_at": created_at.isoformat() + "Z",
                           "data": data}, default=_json_default, separators=(",", ":"), sort_keys=True)
        delivery = WebhookDelivery(delivery_key=key, webhook_id=webhook_id, event=event, body=body,
                                   created_at=created_at)
        db.session.add(delivery)
        deliveries.append(delivery)
    if deliveries:
        db.session.flush()
        for delivery in deliveries:
            schedule_job("worker.jobs.webhooks.deliver_webhook", delivery.id, job_id=f"webhook-{delivery.id}",
                         queue=QUEUE_DEFAULT)
    return deliveries


def send_again(delivery: WebhookDelivery) -> bool:
    """Send a failed delivery (after its automatic retries ran out), or one cut off mid-send, again; False if it is
    no longer either."""
    requeued = db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery.id, stuck_or_failed())
        .values(status="queued")
    ).rowcount
    if not requeued:  # a second click, or it went through meanwhile
        return False
    schedule_job("worker.jobs.webhooks.deliver_webhook", delivery.id,
                 job_id=f"webhook-{delivery.id}-again-{delivery.attempts}", queue=QUEUE_DEFAULT)
    return True


def stuck_or_failed():
    """Deliveries the owner may send again: failed, or left "sending" by a worker that died."""
    return or_(WebhookDelivery.status == "failed",
               and_(WebhookDelivery.status == "sending", WebhookDelivery.sending_since < utcnow() - STUCK_AFTER))


class DeliveryFailed(Exception):
    """The endpoint did not take the delivery; raised so that RQ retries with backoff."""


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the body and return the response code. http.client rather than urllib, which would rewrite the
    headers' names as 'X-soloms-signature'."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def deliver(delivery_id: int, *, retries_left: int = 0) -> str:
    """Send one delivery. Claimed first, so a duplicate job does not send it twice at once; a delivery that is
    delivered already is not sent again. A failure is recorded and raised so that RQ tries again."""
    db.session.rollback()
    now = utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               or_(WebhookDelivery.status.in_(("queued", "retrying", "failed")),
                   and_(WebhookDelivery.status == "sending", WebhookDelivery.sending_since < now - STUCK_AFTER)))
        .values(status="sending", sending_since=now, attempts=WebhookDelivery.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped: delivered already or being sent"
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = delivery.webhook
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-SoloOMS-Event": delivery.event, "X-SoloOMS-Delivery": delivery.delivery_key,
               "X-SoloOMS-Signature": signature(hook.secret, body)}
    code, error = None, None
    try:
        code = post(hook.url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code} from the endpoint"
    except Exception as failure:  # noqa: BLE001 - any network fault is recorded on the delivery, then retried
        error = f"{type(failure).__name__}: {failure}"
    db.session.rollback()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.response_code = code
    if error is None:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
        db.session.commit()
        return f"delivered: HTTP {code}"
    delivery.status = "retrying" if retries_left > 0 else "failed"
    delivery.last_error = error[:2000]
    db.session.commit()
    raise DeliveryFailed(error)
