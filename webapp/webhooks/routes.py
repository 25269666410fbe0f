"""POST /webhooks/shopify/orders-create and /webhooks/woocommerce/order-created.

The signature is checked against the raw body before it is parsed, and nothing is stored unless it matches.
A platform retries a delivery until it gets a 2xx, so the same platform order answers with the order it already
made: the (channel, platform id) claim is inserted in the order's own transaction, and a concurrent retry waits
on its unique index (PostgreSQL) or the write lock (SQLite), then finds it.
"""
import json
import re
from decimal import Decimal

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db, limiter
from webapp.orders.intake import OrderInputError, take_order
from webapp.orders.models import Order
from webapp.settings.models import ShopSettings
from webapp.webhooks.models import ChannelOrder
from webapp.webhooks.payloads import PayloadError, shopify_order, woocommerce_order
from webapp.webhooks.signatures import signature_matches

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
SHOPIFY_SIGNATURE = "X-Shopify-Hmac-Sha256"
WOOCOMMERCE_SIGNATURE = "X-WC-Webhook-Signature"
# WooCommerce's test delivery when a webhook is created: form-encoded, unsigned, carries no order.
WOOCOMMERCE_PING = re.compile(r"webhook_id=\d{1,20}")


def _errors(status: int, errors: dict[str, list[str]]):
    db.session.rollback()  # a refused delivery leaves the database exactly as it was
    return jsonify(errors=errors), status


def _answer(order: Order, status: int):
    return jsonify(order={"number": order.number, "status": order.status, "hold_reasons": order.hold_reasons},
                   duplicate=status == 200), status


def _claimed(channel: str, platform_id: str) -> ChannelOrder | None:
    return db.session.scalars(
        select(ChannelOrder).where(ChannelOrder.channel == channel, ChannelOrder.platform_order_id == platform_id)
    ).first()


def _secret(channel: str) -> str | None:
    settings = db.session.get(ShopSettings, 1)  # read only: a refused delivery must not create the row
    return getattr(settings, f"{channel}_webhook_secret") if settings else None


def receive_order(channel: str, signature_header: str, to_order):
    """Verify, map and take in one platform order; 201 for a new order, 200 for one already received."""
    body = request.get_data(cache=True)
    if not signature_matches(body, _secret(channel), request.headers.get(signature_header)):
        return _errors(401, {signature_header: [
            "missing or does not match: set the same webhook secret here (Settings) and on the platform"]})
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _errors(400, {"body": ["must be JSON"]})
    if not isinstance(payload, dict):
        return _errors(400, {"body": ["must be a JSON object"]})
    order_body = payload.get("order", payload)
    if channel == "shopify" and isinstance(order_body, dict) and order_body.get("test") is True:
        # Shopify's "Send test notification": the signature checked out, which is what it is for; not a sale.
        return {"test": True, "stored": False}, 200
    try:
        platform_id, data, charged = to_order(payload)
    except PayloadError as error:
        return _errors(422, error.errors)

    claim = _claimed(channel, platform_id)
    if claim is not None:
        db.session.rollback()
        return _answer(db.session.get(Order, claim.order_id), 200)
    claim = ChannelOrder(channel=channel, platform_order_id=platform_id)
    db.session.add(claim)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent delivery of the same order finished first: answer with its order.
        db.session.rollback()
        claim = _claimed(channel, platform_id)
        return _answer(db.session.get(Order, claim.order_id), 200)
    try:
        order = take_order(data, actor=f"{channel} webhook", charged=charged)
    except OrderInputError as error:
        return _errors(422, error.errors)
    claim.order_id = order.id
    db.session.commit()
    return _answer(order, 201)


@bp.post("/shopify/orders-create")
@limiter.limit(lambda: current_app.config["WEBHOOK_RATE_LIMIT"])
def shopify_order_created():
    """Shopify's ``orders/create`` webhook: take the order in (channel shopify)."""
    return receive_order("shopify", SHOPIFY_SIGNATURE, shopify_order)


@bp.post("/woocommerce/order-created")
@limiter.limit(lambda: current_app.config["WEBHOOK_RATE_LIMIT"])
def woocommerce_order_created():
    """WooCommerce's ``order.created`` webhook: take the order in (channel woocommerce); answer its ping."""
    if request.mimetype == "application/x-www-form-urlencoded":
        # The NUL-character guard has read the form already, so the raw body is gone; the fields remain. A ping
        # stores nothing, so it needs no signature; any other form is refused below (its body reads as empty).
        if WOOCOMMERCE_PING.fullmatch("&".join(f"{k}={v}" for k, v in request.form.items(multi=True))):
            return jsonify(ping="ok"), 200
    return receive_order("woocommerce", WOOCOMMERCE_SIGNATURE, woocommerce_order)
