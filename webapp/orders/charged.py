"""What a shop platform charged for an order, kept as sent instead of the shop's own tax sums.

An order from Shopify or WooCommerce was already paid at the platform's prices, tax and discounts: the stored
total must be the amount the customer paid, to the penny. Where the platform's own figures do not add up, the
order still keeps what was charged, and a note says what differs, so the owner can look.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from webapp.orders.models import Order

PLATFORM_NAMES = {"shopify": "Shopify", "woocommerce": "WooCommerce"}


@dataclass(frozen=True)
class TaxLine:
    """One tax the platform charged: its title, its rate in percent (if given) and the amount."""
    title: str
    rate_percent: Decimal | None
    amount: Decimal

    def as_stored(self) -> dict:
        return {"title": self.title, "rate_percent": None if self.rate_percent is None else str(self.rate_percent),
                "amount": str(self.amount)}


@dataclass(frozen=True)
class ChargedTotals:
    """The platform's figures; ``subtotal`` None means "the sum of the lines" (WooCommerce sends no items total).

    ``line_totals`` holds, per line, the platform's own line amount where it is not simply price x quantity
    (WooCommerce's line subtotals, which are not always whole cents per unit); None keeps price x quantity.
    """
    shipping: Decimal
    discount: Decimal
    tax: Decimal
    tax_included: bool
    total: Decimal
    subtotal: Decimal | None = None
    tax_lines: list[TaxLine] = field(default_factory=list)
    line_totals: list[Decimal | None] = field(default_factory=list)
    currency: str | None = None  # None: the shop's


def keep_charged_totals(order: Order, charged: ChargedTotals) -> list[str]:
    """Set the order's money from the platform's figures; returns notes on anything that does not add up."""
    platform = PLATFORM_NAMES.get(order.channel, order.channel)
    lines_sum = sum((line.line_total for line in order.lines), Decimal("0.00"))
    order.subtotal = lines_sum if charged.subtotal is None else charged.subtotal
    order.shipping, order.discount, order.tax = charged.shipping, charged.discount, charged.tax
    order.tax_included = charged.tax_included
    order.tax_lines = [line.as_stored() for line in charged.tax_lines]
    order.total = charged.total
    if charged.currency:  # the amounts are in the currency the customer paid in, so is the invoice
        order.currency = charged.currency

    notes = []
    if order.subtotal != lines_sum:
        notes.append(f"{platform}'s items total {order.subtotal} differs from the lines ({lines_sum}); "
                     f"the order keeps what {platform} charged.")
    added_up = order.subtotal + order.shipping - order.discount + (0 if order.tax_included else order.tax)
    if added_up != order.total:
        notes.append(f"{platform}'s total {order.total} does not add up from its items, shipping, discount and tax "
                     f"({added_up}); the order keeps what {platform} charged.")
    taxes_sum = sum((line.amount for line in charged.tax_lines), Decimal("0.00"))
    if charged.tax_lines and taxes_sum != order.tax:
        notes.append(f"{platform}'s tax lines add up to {taxes_sum}, its total tax is {order.tax}; "
                     f"the order keeps the total tax.")
    return notes
