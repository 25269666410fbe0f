"""The order lifecycle: one explicit table of allowed transitions, and what each does to stock.

Status and payment status are separate axes. Every change writes an OrderEvent.
"""
from collections import Counter
from decimal import Decimal

from webapp.catalog.stock import (
    StockError,
    release_stock,
    reserve_stock,
    restock_return,
    ship_stock,
)
from webapp.emails import order_messages
from webapp.extensions import db
from webapp.invoices.issuing import InvoiceRefused, credited_so_far, find_document, issue_credit_note, issue_invoice
from webapp.orders.models import Order, OrderEvent
from webapp.settings.models import current_settings
from webapp.timekeeping import utcnow
from webapp.webhooks_out import events as webhooks

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("confirmed", "on_hold", "rejected"),
    "on_hold": ("confirmed", "cancelled"),
    "confirmed": ("processing", "shipped", "cancelled"),
    "processing": ("shipped", "cancelled"),
    "shipped": ("delivered", "returned"),
    "delivered": ("returned",),
    "rejected": (),
    "cancelled": (),
    "returned": (),
}
STATUSES = tuple(TRANSITIONS)
# Statuses in which the order holds a stock reservation.
RESERVING_STATUSES = ("confirmed", "processing")

PAYMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "unpaid": ("paid",),
    "paid": ("refunded", "partially_refunded"),
    "partially_refunded": ("refunded",),
    "refunded": (),
}

STATUS_LABELS = {
    "pending": "Pending", "on_hold": "On hold", "confirmed": "Confirmed", "processing": "Processing",
    "shipped": "Shipped", "delivered": "Delivered", "rejected": "Rejected", "cancelled": "Cancelled",
    "returned": "Returned",
}
ACTION_LABELS = {
    "confirmed": "Confirm", "on_hold": "Hold", "rejected": "Reject", "processing": "Start packing",
    "shipped": "Ship", "cancelled": "Cancel", "delivered": "Mark delivered", "returned": "Mark returned",
}


class TransitionRefused(Exception):
    """A status change the table does not allow, or one whose preconditions fail."""

    def __init__(self, message: str, field: str = "to"):
        super().__init__(message)
        self.message = message
        self.field = field


class MissingShipmentDetails(TransitionRefused):
    """Shipping needs a carrier; the caller should ask for it (422 rather than 409)."""


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def record_event(order: Order, *, kind: str, actor: str, note: str = "", from_status: str | None = None,
                 to_status: str | None = None) -> OrderEvent:
    now = utcnow()  # set here rather than at flush, so the answer can show it before the commit
    event = OrderEvent(kind=kind, from_status=from_status, to_status=to_status, note=note, actor=actor,
                       created_at=now)
    order.events.append(event)
    order.updated_at = now
    webhooks.order_event_recorded(order, kind=kind, from_status=from_status, to_status=to_status)
    return event


def units_by_product(order: Order) -> Counter:
    """How many units of each known product the order holds (lines of one product added up)."""
    wanted: Counter = Counter()
    for line in order.lines:
        if line.product_id is not None:
            wanted[line.product_id] += line.quantity
    return wanted


def reserve_order_stock(order: Order, actor: str) -> list[str]:
    """Reserve every line, all or nothing; returns the SKUs that were short (then nothing is reserved)."""
    wanted = sorted(units_by_product(order).items())  # a fixed order, so concurrent orders cannot deadlock
    # One product is one conditional UPDATE, all or nothing already; several need a savepoint to undo.
    savepoint = db.session.begin_nested() if len(wanted) > 1 else None
    short = []
    for product_id, quantity in wanted:
        if not reserve_stock(product_id, quantity, order_id=order.id, actor=actor):
            short.append(next(line.sku for line in order.lines if line.product_id == product_id))
    if savepoint is not None:
        if short:
            savepoint.rollback()
        else:
            savepoint.commit()
    return short


def transition(order: Order, to: str, *, actor: str, note: str = "", carrier: str | None = None,
               tracking_number: str | None = None, restock: bool = True) -> None:
    """Move the order to status ``to``, applying its stock effects, or raise TransitionRefused."""
    current = order.status
    if to not in TRANSITIONS:
        raise TransitionRefused(f"'{to}' is not an order status.")
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (it is final)"
        raise TransitionRefused(
            f"Order {order.number} is {STATUS_LABELS[current].lower()}; it cannot become "
            f"{STATUS_LABELS[to].lower()}. Allowed next: {allowed}."
        )

    if to == "shipped" and (not carrier or not carrier.strip()):
        raise MissingShipmentDetails("Say which carrier takes the parcel.", field="carrier")
    try:
        _apply_stock_effects(order, current, to, actor=actor, restock=restock)
    except StockError as error:  # the counters disagree with the order: refuse rather than guess
        raise TransitionRefused(f"{order.number}: {error}") from error
    if to == "confirmed":
        order.hold_reasons = []
    elif to == "shipped":
        order.carrier = carrier.strip()
        order.tracking_number = (tracking_number or "").strip() or None
        order.shipped_at = utcnow()

    order.status = to
    details = note
    if to == "shipped":
        details = " ".join(filter(None, [f"{order.carrier} {order.tracking_number or ''}".strip(), note]))
    elif to == "returned":
        details = " ".join(filter(None, ["restocked" if restock else "not restocked", note]))
    record_event(order, kind="status", actor=actor, from_status=current, to_status=to, note=details)
    if to == "confirmed":
        order_messages.order_confirmed(order)
    elif to == "shipped":
        order_messages.order_shipped(order)
    elif to == "delivered":
        order_messages.ask_for_feedback(order)
    if current_settings().invoice_on == to:
        issue_invoice(order, actor=actor)


def _apply_stock_effects(order: Order, current: str, to: str, *, actor: str, restock: bool) -> None:
    if to == "confirmed":
        short = reserve_order_stock(order, actor)
        if short:
            raise TransitionRefused(f"Not enough stock to confirm {order.number}: {', '.join(short)}.")
    elif to == "cancelled" and current in RESERVING_STATUSES:
        for product_id, quantity in units_by_product(order).items():
            release_stock(product_id, quantity, order_id=order.id, actor=actor)
    elif to == "shipped":
        for product_id, quantity in units_by_product(order).items():
            ship_stock(product_id, quantity, order_id=order.id, actor=actor)
    elif to == "returned" and restock:
        for product_id, quantity in units_by_product(order).items():
            restock_return(product_id, quantity, order_id=order.id, actor=actor)


def set_payment_status(order: Order, to: str, *, actor: str, note: str = "", amount: Decimal | None = None) -> None:
    """Record a payment or refund; payment status moves on its own axis. A refund of an invoiced order issues a
    credit note: for ``amount`` when partly refunded, for what is left when refunded."""
    current = order.payment_status
    if to not in PAYMENT_TRANSITIONS:
        raise TransitionRefused(f"'{to}' is not a payment status.", field="payment_status")
    if to not in PAYMENT_TRANSITIONS[current]:
        raise TransitionRefused(
            f"Order {order.number} is {current.replace('_', ' ')}; it cannot become {to.replace('_', ' ')}.",
            field="payment_status",
        )
    if to == "partially_refunded" and amount is None:
        raise TransitionRefused("Say how much was refunded.", field="refund_amount")
    order.payment_status = to
    if amount is not None:
        note = " ".join(filter(None, [f"{amount:.2f} {order.currency} refunded.", note]))
    record_event(order, kind="payment", actor=actor, from_status=current, to_status=to, note=note)
    if to in ("refunded", "partially_refunded") and find_document(order) is not None:
        if to == "refunded" and Decimal(credited_so_far(order)) >= find_document(order).total:
            return  # the partial refunds already credited everything
        try:
            issue_credit_note(order, actor=actor, amount=amount if to == "partially_refunded" else None)
        except InvoiceRefused as refusal:
            raise TransitionRefused(refusal.message, field="refund_amount") from refusal


def add_note(order: Order, text: str, *, actor: str) -> None:
    """A note on the timeline."""
    text = text.strip()
    if not text:
        raise TransitionRefused("Write something in the note.", field="note")
    record_event(order, kind="note", actor=actor, note=text)
