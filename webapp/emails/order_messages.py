"""The messages an order causes: the owner hears of new orders, the customer of confirmation and shipping,
and is asked for feedback after delivery.

Each is queued once per order (its dedupe key) and only when switched on in the settings.
"""
from flask import g

from webapp.emails.models import OutgoingEmail
from webapp.emails.outbox import queue_email
from webapp.orders.models import Order
from webapp.settings.models import current_settings


def _quiet() -> bool:
    return bool(g.get("suppress_notifications"))


def order_received(order: Order, *, new_order: bool = False) -> OutgoingEmail | None:
    """``new_order``: the order was made in this transaction; see queue_email's ``new_key``."""
    settings = current_settings()
    if _quiet() or not settings.email_owner_new_order or not settings.shop_email:
        return None
    return queue_email(
        kind="new_order", dedupe_key=f"new-order:{order.number}", to=settings.shop_email,
        subject=f"New order {order.number} from {order.customer.name} ({order.status.replace('_', ' ')})",
        template="new_order", order_id=order.id, new_key=new_order, order=order)


def order_confirmed(order: Order, *, new_order: bool = False) -> OutgoingEmail | None:
    """``new_order``: the order was made in this transaction; see queue_email's ``new_key``."""
    settings = current_settings()
    if _quiet() or not settings.email_customer_confirmation or not order.customer.email:
        return None
    return queue_email(
        kind="confirmation", dedupe_key=f"confirmation:{order.number}", to=order.customer.email,
        subject=f"Your order {order.number} is confirmed", template="order_confirmation",
        order_id=order.id, new_key=new_order, order=order)


def invoice_ready(document) -> None:
    """Send the customer their invoice (or credit note) as a PDF attachment."""
    settings = current_settings()
    order = document.order
    if _quiet() or not document.email_customer or not settings.email_customer_invoice or not order.customer.email:
        return
    queue_email(kind=document.kind, dedupe_key=f"{document.kind}:{document.number}", to=order.customer.email,
                subject=f"{document.title} {document.number} for your order {order.number}", template="invoice",
                order_id=order.id, attachment_invoice_id=document.id, order=order, document=document)


def order_shipped(order: Order) -> None:
    settings = current_settings()
    if _quiet() or not settings.email_customer_shipped or not order.customer.email:
        return
    queue_email(kind="shipped", dedupe_key=f"shipped:{order.number}", to=order.customer.email,
                subject=f"Your order {order.number} is on its way", template="order_shipped",
                order_id=order.id, order=order)


def ask_for_feedback(order: Order) -> None:
    """After delivery: a signed link to the page where the customer rates the order (webapp/feedback)."""
    from webapp.feedback.links import LINK_DAYS, feedback_token
    from webapp.views import public_url  # views imports the workflow, which imports this module

    settings = current_settings()
    if _quiet() or not settings.email_customer_feedback or not order.customer.email:
        return
    link = public_url("feedback.give_feedback", token=feedback_token(order))
    queue_email(kind="feedback", dedupe_key=f"feedback:{order.number}", to=order.customer.email,
                subject=f"How was your order {order.number}?", template="feedback_request",
                order_id=order.id, order=order, link=link, link_days=LINK_DAYS)
