"""What Shopify and WooCommerce charged: tax (per rate), discounts, shipping and the total, from their own fields.

Shopify's line ``price`` is before discounts and includes tax when ``taxes_included``; its ``total_price`` is
items - discounts + shipping (+ tax when not included). WooCommerce keeps every amount without tax, tax beside it
(``subtotal_tax``, ``discount_tax``, ``shipping_tax``); its ``total`` is items - coupons + shipping + fees + tax.
For a WooCommerce shop whose prices include tax the amounts are turned into the tax-inclusive ones its owner
and catalogue use.
"""
import re
from decimal import Decimal, InvalidOperation

from webapp.orders.charged import ChargedTotals, TaxLine
from webapp.validation import MAX_MONEY
from webapp.webhooks.fields import PayloadError, as_list, as_money, as_text


def _flag(payload: dict, field: str) -> bool:
    value = payload.get(field)
    if value is None:
        raise PayloadError({field: ["is required: true or false"]})
    if not isinstance(value, bool):
        raise PayloadError({field: ["must be true or false"]})
    return value


def _required_money(payload: dict, field: str) -> Decimal:
    if payload.get(field) is None:
        raise PayloadError({field: ['is required: an amount such as "12.50"']})
    return as_money(payload[field], field)


def _optional_money(payload: dict, field: str) -> Decimal:
    return Decimal("0.00") if payload.get(field) is None else as_money(payload[field], field)


def _rate(value, field: str, *, scale: int, most: int) -> Decimal | None:
    """A tax rate in percent, from a fraction (Shopify's 0.06, scale 100) or a percentage (WooCommerce's 6)."""
    if value is None:
        return None
    message = f"must be a number from 0 to {most}"
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError({field: [message]})
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError({field: [message]}) from None
    if not rate.is_finite() or not 0 <= rate <= most:
        raise PayloadError({field: [message]})
    return (rate * scale).normalize()


def _currency(payload: dict) -> str | None:
    if payload.get("currency") is None:
        return None
    code = as_text(payload["currency"])
    if not code or not re.fullmatch(r"[A-Za-z]{3}", code):
        raise PayloadError({"currency": ['must be a three-letter currency code such as "USD"']})
    return code.upper()


def _tax_lines(payload: dict, *, amount_fields: tuple[str, ...], rate_field: str, title_field: str,
               scale: int, most: int) -> list[TaxLine]:
    """The platform's taxes per rate; the amount of a line is the sum of ``amount_fields`` (the first required)."""
    lines = []
    for i, line in enumerate(as_list(payload.get("tax_lines"), "tax_lines")):
        field = f"tax_lines.{i}"
        if not isinstance(line, dict):
            raise PayloadError({field: ["must be an object"]})
        if line.get(amount_fields[0]) is None:
            raise PayloadError({f"{field}.{amount_fields[0]}": ['is required: an amount such as "12.50"']})
        amount = sum((as_money(line[name], f"{field}.{name}") for name in amount_fields if line.get(name) is not None),
                     Decimal("0.00"))
        lines.append(TaxLine(title=(as_text(line.get(title_field)) or "Tax")[:100], amount=amount,
                             rate_percent=_rate(line.get(rate_field), f"{field}.{rate_field}", scale=scale, most=most)))
    return lines


def shopify_charges(payload: dict, *, shipping: Decimal) -> ChargedTotals:
    """Shopify's figures for an ``orders/create`` body; ``shipping`` is the sum of its shipping lines."""
    return ChargedTotals(
        tax_included=_flag(payload, "taxes_included"), tax=_required_money(payload, "total_tax"),
        total=_required_money(payload, "total_price"), discount=_optional_money(payload, "total_discounts"),
        shipping=shipping, currency=_currency(payload),
        subtotal=None if payload.get("total_line_items_price") is None
        else as_money(payload["total_line_items_price"], "total_line_items_price"),
        tax_lines=_tax_lines(payload, amount_fields=("price",), rate_field="rate", title_field="title",
                             scale=100, most=1),
    )


def woocommerce_charges(payload: dict, items: list) -> ChargedTotals:
    """WooCommerce's figures for an ``order.created`` body; ``items`` are its (checked) line items."""
    included = _flag(payload, "prices_include_tax")
    line_totals = []
    for i, item in enumerate(items):
        if item.get("subtotal") is None:  # no line amount: price x quantity, as for any order
            line_totals.append(None)
            continue
        amount = as_money(item["subtotal"], f"line_items.{i}.subtotal")  # before coupons, without tax
        tax = Decimal("0.00") if item.get("subtotal_tax") is None else as_money(
            item["subtotal_tax"], f"line_items.{i}.subtotal_tax")
        line_totals.append(amount + tax if included else amount)
    # Every amount is checked, whether or not it is added: a bad one is a bad delivery either way.
    discount, discount_tax = _optional_money(payload, "discount_total"), _optional_money(payload, "discount_tax")
    shipping, shipping_tax = _optional_money(payload, "shipping_total"), _optional_money(payload, "shipping_tax")
    if included:
        discount, shipping = discount + discount_tax, shipping + shipping_tax
    # Sums of amounts that are each within bounds may not be: refused here rather than overflowing the column.
    for field, amount in (("discount_tax", discount), ("shipping_tax", shipping),
                          ("line_items", sum((t for t in line_totals if t is not None), Decimal("0.00")))):
        if amount > MAX_MONEY:
            raise PayloadError({field: [f"makes an amount larger than {MAX_MONEY}"]})
    return ChargedTotals(
        tax_included=included, tax=_required_money(payload, "total_tax"), total=_required_money(payload, "total"),
        discount=discount, shipping=shipping, line_totals=line_totals, currency=_currency(payload),
        tax_lines=_tax_lines(payload, amount_fields=("tax_total", "shipping_tax_total"), rate_field="rate_percent",
                             title_field="label", scale=1, most=100),
    )
