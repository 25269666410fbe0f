"""Taking an order in: validate, match the customer, price the lines, number it, audit it, reserve stock."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, select

from webapp.bulk import new_ids
from webapp.catalog.models import Product
from webapp.customers.matching import match_or_create_customer
from webapp.customers.models import Customer
from webapp.emails import order_messages
from webapp.emails.outbox import schedule_new_emails
from webapp.extensions import db
from webapp.invoices.issuing import issue_invoice
from webapp.metrics import count_order_when_committed
from webapp.orders.audit import audit_order
from webapp.orders.charged import ChargedTotals, keep_charged_totals
from webapp.orders.models import Order, OrderLine
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import record_event, reserve_order_stock
from webapp.settings.models import ShopSettings, current_settings
from webapp.timekeeping import shop_today, utcnow
from webapp.validation import CENT, MAX_MONEY

# Channels where a person or a client program picks the SKUs: an unknown SKU is their mistake (422).
# Orders from shop platforms and imports are held instead, so a paying customer's order is never dropped.
STRICT_SKU_CHANNELS = ("web", "api", "paste")
EXPRESS_WORDS = ("express", "next day", "next-day", "overnight", "priority")
_PRODUCTS_BY_SKU = select(Product).where(Product.sku.in_(bindparam("skus", expanding=True)))  # built once


class OrderInputError(Exception):
    """Well-formed JSON that still cannot become an order; ``errors`` names the fields."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def order_number(order_id: int) -> str:
    return f"SO-{order_id:06d}"


def _priority(data: OrderIn, settings: ShopSettings, today: date) -> str:
    if data.priority:
        return data.priority
    method = (data.shipping_method or "").lower()
    if any(word in method for word in EXPRESS_WORDS):
        return "express"
    if data.due_date and data.due_date <= today + timedelta(days=settings.express_window_days):
        return "express"
    return "standard"


def tax_on(amount: Decimal, settings: ShopSettings) -> Decimal:
    """The tax in (prices include tax) or on top of (they do not) ``amount``, at the shop's rate."""
    rate = settings.tax_rate_percent or Decimal("0")
    if not rate:
        return Decimal("0.00")
    divisor = (100 + rate) if settings.prices_include_tax else Decimal(100)
    return (amount * rate / divisor).quantize(CENT, rounding=ROUND_HALF_UP)


def take_order(data: OrderIn, *, actor: str, today: date | None = None,
               charged: ChargedTotals | None = None, customer: Customer | None = None) -> Order:
    """Store a validated order and run the audit; returns it confirmed, on hold or rejected.

    ``charged`` holds a shop platform's own totals (webhooks), kept instead of the shop's tax sums. ``customer``
    is one the caller matched already (imports); otherwise the customer is matched on email, else phone. The
    caller commits. Raises OrderInputError for an unknown SKU on channels where that is a mistake.
    """
    settings = current_settings()
    skus = {line.sku for line in data.lines}
    products = {p.sku: p for p in db.session.scalars(_PRODUCTS_BY_SKU, {"skus": list(skus)})}
    if data.channel in STRICT_SKU_CHANNELS:
        errors = {
            f"lines.{i}.sku": [f"unknown SKU '{line.sku}'"]
            for i, line in enumerate(data.lines)
            if line.sku not in products or not products[line.sku].active
        }
        if errors:
            raise OrderInputError(errors)

    address = data.customer.address.model_dump() if data.customer.address else {}
    customer = match_or_create_customer(
        name=data.customer.name, email=data.customer.email, phone=data.customer.phone, address=address,
        known=customer,
    )
    returning_customer = customer.id is not None
    order = Order(
        customer=customer, channel=data.channel, status="pending", payment_status="unpaid",
        priority=_priority(data, settings, today or shop_today()), currency=settings.currency,
        due_date=data.due_date, shipping_method=data.shipping_method, notes=data.notes,
        external_ref=data.external_ref, shipping=data.shipping.quantize(CENT), tax=Decimal("0.00"),
        discount=Decimal("0.00"), hold_reasons=[], events=[],
        ship_name=data.customer.name, ship_line1=address.get("line1"), ship_line2=address.get("line2"),
        ship_city=address.get("city"), ship_postcode=address.get("postcode"), ship_country=address.get("country"),
    )
    submitted_prices: dict[int, Decimal] = {}
    for position, line in enumerate(data.lines):
        product = products.get(line.sku)
        price = line.unit_price if line.unit_price is not None else (product.unit_price if product else None)
        if line.unit_price is not None:
            submitted_prices[position] = line.unit_price
        price = (price or Decimal("0")).quantize(CENT)
        platform_total = charged.line_totals[position] if charged and position < len(charged.line_totals) else None
        order.lines.append(OrderLine(
            product_id=product.id if product else None, sku=line.sku,
            name=product.name if product else line.sku, quantity=line.quantity, unit_price=price,
            line_total=platform_total if platform_total is not None else (price * line.quantity).quantize(CENT),
        ))
    charge_notes = []
    if charged is None:
        order.subtotal = sum((line.line_total for line in order.lines), Decimal("0.00"))
        order.tax = tax_on(order.subtotal + order.shipping - order.discount, settings)
        order.tax_included = settings.prices_include_tax
        order.total = order.subtotal + order.shipping - order.discount + (
            Decimal("0.00") if settings.prices_include_tax else order.tax)
    else:
        charge_notes = keep_charged_totals(order, charged)
        order.notes = "\n".join(part for part in [order.notes, *charge_notes] if part)
    too_large = {f"lines.{i}.quantity": [f"makes the line total larger than {MAX_MONEY}"]
                 for i, line in enumerate(order.lines) if line.line_total > MAX_MONEY}
    if not too_large and order.total > MAX_MONEY:
        too_large = {"lines": [f"the order total would be larger than {MAX_MONEY}"]}
    if too_large:
        raise OrderInputError(too_large)
    with db.session.no_autoflush:  # the reads below need nothing of this order written yet
        # The id (hence the number) given out up front, as the database would: the order, its lines, events,
        # ledger rows and emails are then written by one flush at the end, the order row once, as it ends up.
        order.id = new_ids(Order, 1)[0]
        order.number = order_number(order.id)
        order.created_at = utcnow()
        db.session.add(order)
        record_event(order, kind="created", actor=actor, to_status="pending",
                     note=f"Received via {data.channel}.")
        if charge_notes:
            record_event(order, kind="note", actor=actor, note=" ".join(charge_notes))

        result = audit_order(order, settings, {p.id: p for p in products.values()}, submitted_prices,
                             returning_customer=returning_customer)
        decision = result.decision
        reasons = result.reject_reasons or result.hold_reasons
        if decision == "confirmed":
            short = reserve_order_stock(order, actor)
            if short:  # another order took the stock between the audit's look and the reservation
                decision = "on_hold"
                reasons = [f"Not enough stock of {sku}." for sku in short]
        order.status = decision
        order.hold_reasons = reasons if decision != "confirmed" else []
        record_event(order, kind="status", actor="audit", from_status="pending", to_status=decision,
                     note=" ".join(reasons))
        emails = [order_messages.order_received(order, new_order=True)]
        if decision == "confirmed":
            emails.append(order_messages.order_confirmed(order, new_order=True))
    db.session.flush()
    schedule_new_emails(emails)
    if decision == "confirmed" and settings.invoice_on == "confirmed":
        issue_invoice(order, actor=actor)
    count_order_when_committed(db.session, order.channel)
    return order
