"""The audit every new order goes through (DESIGN.md §3): reject, hold with reasons, or confirm."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order
from webapp.orders.workflow import units_by_product
from webapp.settings.models import ShopSettings
from webapp.timekeeping import utcnow


@dataclass
class AuditResult:
    reject_reasons: list[str] = field(default_factory=list)
    hold_reasons: list[str] = field(default_factory=list)

    @property
    def decision(self) -> str:
        if self.reject_reasons:
            return "rejected"
        if self.hold_reasons:
            return "on_hold"
        return "confirmed"


def audit_order(order: Order, settings: ShopSettings, products: dict[int, Product],
                submitted_prices: dict[int, Decimal], *, returning_customer: bool = True) -> AuditResult:
    """Apply the hard and soft rules to a freshly taken order; nothing is changed here.

    ``submitted_prices`` maps a line's position to the unit price the channel sent, when it sent one.
    A customer seen for the first time cannot have a duplicate order, so that look-up is skipped.
    """
    result = AuditResult()
    if order.customer.blocked:
        result.reject_reasons.append(f"Customer {order.customer.name} is blocked.")
        return result

    for position, line in enumerate(order.lines):
        if line.product_id is None:
            result.hold_reasons.append(f"Unknown SKU {line.sku} — match it to a product or fix the line.")
            continue
        product = products[line.product_id]
        if position in submitted_prices and product.unit_price > 0:
            difference = (submitted_prices[position] - product.unit_price) / product.unit_price * 100
            if abs(difference) > settings.price_tolerance_percent:
                direction = "below" if difference < 0 else "above"
                result.hold_reasons.append(
                    f"Price of {line.sku} is {submitted_prices[position]:.2f}, "
                    f"{abs(difference):.0f}% {direction} the catalogue price {product.unit_price:.2f}."
                )

    for product_id, quantity in units_by_product(order).items():
        product = products[product_id]
        if product.available < quantity:
            result.hold_reasons.append(
                f"Not enough stock of {product.sku}: {quantity} ordered, {max(product.available, 0)} available."
            )

    if order.total > settings.review_total_threshold:
        result.hold_reasons.append(
            f"Total {order.total:.2f} is above the review threshold {settings.review_total_threshold:.2f}."
        )
    if settings.require_shipping_address and not order.has_shipping_address:
        result.hold_reasons.append("Shipping address is missing (street, city and country are needed).")
    duplicate = find_likely_duplicate(order, settings.duplicate_window_minutes) if returning_customer else None
    if duplicate is not None:
        result.hold_reasons.append(
            f"Looks like a duplicate of {duplicate.number}: same customer and items "
            f"within {settings.duplicate_window_minutes} minutes."
        )
    return result


def _line_signature(order: Order) -> Counter:
    signature: Counter = Counter()
    for line in order.lines:
        signature[line.sku] += line.quantity
    return signature


def find_likely_duplicate(order: Order, window_minutes: int) -> Order | None:
    """An earlier live order of the same customer with the same items, placed within the window."""
    if window_minutes <= 0 or order.customer.id is None:
        return None
    since = utcnow() - timedelta(minutes=window_minutes)
    candidates = db.session.scalars(
        select(Order)
        .where(
            Order.customer_id == order.customer.id,
            Order.id != order.id,
            Order.created_at >= since,
            Order.status.not_in(NOT_SALES),
        )
        .options(selectinload(Order.lines))
        .order_by(Order.id.desc())
        .limit(20)
    )
    signature = _line_signature(order)
    for candidate in candidates:
        if _line_signature(candidate) == signature:
            return candidate
    return None
