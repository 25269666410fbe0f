"""Platform order payloads (Shopify ``orders/create``, WooCommerce ``order.created``) turned into OrderIn.

Errors name the platform's own fields (``line_items.0.quantity``), so the shop owner can find them in the
delivery log of the platform.
"""
import re
from decimal import ROUND_HALF_UP, Decimal

from pydantic import ValidationError, validate_email

from webapp.orders.charged import ChargedTotals
from webapp.orders.schemas import OrderIn
from webapp.validation import CENT, field_errors
from webapp.webhooks.charges import shopify_charges, woocommerce_charges
from webapp.webhooks.fields import PayloadError
from webapp.webhooks.fields import as_list as _list
from webapp.webhooks.fields import as_money as _money
from webapp.webhooks.fields import as_object as _object
from webapp.webhooks.fields import as_text as _text


def _platform_id(payload: dict) -> str:
    value = payload.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise PayloadError({"id": ["is required: the platform's order id"]})
    platform_id = str(value).strip()
    if len(platform_id) > 64:
        raise PayloadError({"id": ["must be at most 64 characters"]})
    return platform_id


def _email_or_note(email: str | None, notes: list[str]) -> str | None:
    """A paying customer's order is never refused for a malformed email: keep it in the notes instead."""
    if not email:
        return None
    try:
        validate_email(email)
    except ValueError:  # pydantic's error for a bad address is a ValueError
        notes.append(f"Email as sent (not a valid address): {email[:200]}")
        return None
    return email


# Our columns' limits on text a shop platform may send longer (a long street, a phone with an extension note).
TEXT_LIMITS = {("customer", "name"): 200, ("customer", "phone"): 40, ("customer", "address", "line1"): 200,
               ("customer", "address", "line2"): 200, ("customer", "address", "city"): 100,
               ("customer", "address", "postcode"): 20, ("shipping_method",): 64, ("external_ref",): 100}
MAX_NOTES = 5000


def _fit_to_limits(order: dict) -> None:
    """A paid order is never refused for a field longer than ours: the field is cut to fit, and what the platform
    sent is kept whole in the notes (as with a malformed email), so nothing the customer wrote is lost."""
    kept = []
    for path, limit in TEXT_LIMITS.items():
        holder = order
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        value = holder.get(path[-1]) if isinstance(holder, dict) else None
        if isinstance(value, str) and len(value) > limit:
            holder[path[-1]] = value[:limit].rstrip() or value[:limit]
            kept.append(f"{' '.join(path[1:] or path).replace('_', ' ')} as sent: {value[:1000]}")
    country = (order.get("customer") or {}).get("address") or {}
    if isinstance(country.get("country"), str) and not re.fullmatch(r"[A-Za-z]{2}", country["country"]):
        kept.append(f"country as sent: {country['country'][:200]}")
        country["country"] = None
    notes = "\n".join([order.get("notes") or "", *kept]).strip()
    order["notes"] = notes if len(notes) <= MAX_NOTES else notes[:MAX_NOTES - 1] + "…"


def _validated(order: dict, renames: list[tuple[str, str]]) -> OrderIn:
    """Validate as OrderIn; error locations are renamed to the platform's field names."""
    _fit_to_limits(order)
    try:
        return OrderIn.model_validate(order)
    except ValidationError as error:
        errors: dict[str, list[str]] = {}
        for field, messages in field_errors(error).items():
            for pattern, platform_field in renames:
                if re.fullmatch(pattern, field):
                    field = re.sub(pattern, platform_field, field)
                    break
            errors.setdefault(field, []).extend(messages)
        raise PayloadError(errors) from error


def _line(item, index: int) -> dict:
    """One line item: SKU, quantity and the unit price paid (the catalogue price when the item has none)."""
    field = f"line_items.{index}"
    if not isinstance(item, dict):
        raise PayloadError({field: ["must be an object"]})
    # Shopify's "price" is the unit price before discounts. WooCommerce's is per unit after coupons and without
    # tax: its line "subtotal" replaces it where sent (woocommerce_order), so coupons are not counted twice.
    price = _money(item["price"], f"{field}.price") if item.get("price") is not None else None
    if "quantity" not in item:
        raise PayloadError({f"{field}.quantity": ["is required"]})
    # Items without a SKU (custom items) keep their name, so the held order shows what was bought.
    sku = _text(item.get("sku")) or _text(item.get("name")) or _text(item.get("title")) \
        or _text(item.get("product_id"))
    if sku is None:
        raise PayloadError({f"{field}.sku": ["is required (or a name for an item without a SKU)"]})
    return {"sku": sku[:64], "quantity": item.get("quantity"), "unit_price": price}


def _address(address: dict, *, line1: str, line2: str, postcode: str, country: str) -> dict | None:
    fields = {"line1": _text(address.get(line1)), "line2": _text(address.get(line2)),
              "city": _text(address.get("city")), "postcode": _text(address.get(postcode)),
              "country": _text(address.get(country))}
    return fields if any(fields.values()) else None


def _name(*addresses: dict) -> str | None:
    for address in addresses:
        name = _text(address.get("name")) or " ".join(
            part for part in (_text(address.get("first_name")), _text(address.get("last_name"))) if part)
        if name:
            return name
    return None


SHOPIFY_RENAMES = [
    (r"lines\.(\d+)\.sku", r"line_items.\1.sku"),
    (r"lines\.(\d+)\.quantity", r"line_items.\1.quantity"),
    (r"lines\.(\d+)\.unit_price", r"line_items.\1.price"),
    (r"lines", "line_items"),
    (r"customer\.name", "shipping_address.name"),
    (r"customer\.phone", "shipping_address.phone"),
    (r"customer\.address\.line1", "shipping_address.address1"),
    (r"customer\.address\.line2", "shipping_address.address2"),
    (r"customer\.address\.city", "shipping_address.city"),
    (r"customer\.address\.postcode", "shipping_address.zip"),
    (r"customer\.address\.country", "shipping_address.country_code"),
    (r"shipping", "shipping_lines"),
    (r"shipping_method", "shipping_lines.0.title"),
    (r"notes", "note"),
    (r"external_ref", "name"),
]


def _discount_codes(payload: dict) -> str | None:
    """Shopify's discount codes as a note line ("Discount codes: TENOFF 10.00"); the amount charged is elsewhere."""
    codes = [f"{_text(code.get('code'))} {_text(code.get('amount')) or ''}".strip()
             for code in _list(payload.get("discount_codes"), "discount_codes")
             if isinstance(code, dict) and _text(code.get("code"))]
    return f"Discount codes: {', '.join(codes)}" if codes else None


def shopify_order(payload: dict) -> tuple[str, OrderIn, ChargedTotals]:
    """(Shopify's order id, the order, what Shopify charged) from an ``orders/create`` body; also accepts
    ``{"order": {...}}``."""
    if set(payload) == {"order"} and isinstance(payload["order"], dict):
        payload = payload["order"]
    platform_id = _platform_id(payload)
    customer = _object(payload.get("customer"), "customer")
    shipping_address = _object(payload.get("shipping_address"), "shipping_address")
    billing_address = _object(payload.get("billing_address"), "billing_address")
    address = shipping_address or billing_address
    items = _list(payload.get("line_items"), "line_items")
    if not items:
        raise PayloadError({"line_items": ["must have at least one item"]})
    lines = [_line(item, i) for i, item in enumerate(items)]
    shipping_lines = _list(payload.get("shipping_lines"), "shipping_lines")
    shipping = sum((_money(line.get("price", "0") if isinstance(line, dict) else None, f"shipping_lines.{i}.price")
                    for i, line in enumerate(shipping_lines)), Decimal("0.00"))
    charged = shopify_charges(payload, shipping=shipping)
    notes = [note for note in [_text(payload.get("note")), _discount_codes(payload)] if note]
    for attribute in _list(payload.get("note_attributes"), "note_attributes"):
        if isinstance(attribute, dict) and _text(attribute.get("name")):
            notes.append(f"{_text(attribute.get('name'))}: {_text(attribute.get('value')) or ''}".strip())
    reference = _text(payload.get("name")) or _text(payload.get("order_number")) or platform_id
    notes.append(f"Shopify order {reference}: total {_text(payload.get('total_price')) or '?'} "
                 f"{_text(payload.get('currency')) or ''}".rstrip())
    email = _email_or_note(_text(payload.get("email")) or _text(payload.get("contact_email"))
                           or _text(customer.get("email")), notes)
    name = _name(shipping_address, billing_address, customer) or email
    if name is None:
        raise PayloadError({"shipping_address.name": ["is required: no customer name or email in the order"]})
    phone = _text(address.get("phone")) or _text(payload.get("phone")) or _text(customer.get("phone"))
    order = {
        "customer": {"name": name, "email": email, "phone": phone,
                     "address": _address(address, line1="address1", line2="address2", postcode="zip",
                                         country="country_code")},
        "lines": lines, "channel": "shopify", "shipping": shipping,
        "shipping_method": _text(shipping_lines[0].get("title"))
        if shipping_lines and isinstance(shipping_lines[0], dict) else None,
        "notes": "\n".join(notes), "external_ref": reference,
    }
    return platform_id, _validated(order, SHOPIFY_RENAMES), charged


WOOCOMMERCE_RENAMES = [
    (r"lines\.(\d+)\.sku", r"line_items.\1.sku"),
    (r"lines\.(\d+)\.quantity", r"line_items.\1.quantity"),
    (r"lines\.(\d+)\.unit_price", r"line_items.\1.price"),
    (r"lines", "line_items"),
    (r"customer\.name", "shipping.first_name"),
    (r"customer\.phone", "billing.phone"),
    (r"customer\.address\.line1", "shipping.address_1"),
    (r"customer\.address\.line2", "shipping.address_2"),
    (r"customer\.address\.city", "shipping.city"),
    (r"customer\.address\.postcode", "shipping.postcode"),
    (r"customer\.address\.country", "shipping.country"),
    (r"shipping", "shipping_total"),
    (r"shipping_method", "shipping_lines.0.method_title"),
    (r"notes", "customer_note"),
    (r"external_ref", "number"),
]


def woocommerce_order(payload: dict) -> tuple[str, OrderIn, ChargedTotals]:
    """(WooCommerce's order id, the order, what WooCommerce charged) from an ``order.created`` body (REST v3)."""
    platform_id = _platform_id(payload)
    shipping_address = _object(payload.get("shipping"), "shipping")
    billing = _object(payload.get("billing"), "billing")
    address = shipping_address if _text(shipping_address.get("address_1")) else billing
    items = _list(payload.get("line_items"), "line_items")
    if not items:
        raise PayloadError({"line_items": ["must have at least one item"]})
    lines = [_line(item, i) for i, item in enumerate(items)]
    charged = woocommerce_charges(payload, items)
    for line, line_total in zip(lines, charged.line_totals, strict=True):
        quantity = line["quantity"]
        if line_total is not None and isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 0:
            # The unit price before coupons (with tax where the shop's prices include it), as in the catalogue.
            line["unit_price"] = (line_total / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    shipping_lines = _list(payload.get("shipping_lines"), "shipping_lines")
    notes = [note for note in [_text(payload.get("customer_note"))] if note]
    coupons = [_text(coupon.get("code")) for coupon in _list(payload.get("coupon_lines"), "coupon_lines")
               if isinstance(coupon, dict) and _text(coupon.get("code"))]
    if coupons:
        notes.append(f"Coupons: {', '.join(coupons)}")
    fees = [f"{_text(fee.get('name')) or 'Fee'} {_text(fee.get('total')) or ''}".strip()
            for fee in _list(payload.get("fee_lines"), "fee_lines") if isinstance(fee, dict)]
    if fees:
        notes.append(f"Fees (in WooCommerce's total): {', '.join(fees)}")
    reference = _text(payload.get("number")) or platform_id
    notes.append(f"WooCommerce order {reference}: total {_text(payload.get('total')) or '?'} "
                 f"{_text(payload.get('currency')) or ''}".rstrip())
    email = _email_or_note(_text(billing.get("email")), notes)
    name = _name(shipping_address, billing) or email
    if name is None:
        raise PayloadError({"billing.first_name": ["is required: no customer name or email in the order"]})
    order = {
        "customer": {"name": name, "email": email,
                     "phone": _text(billing.get("phone")) or _text(shipping_address.get("phone")),
                     "address": _address(address, line1="address_1", line2="address_2", postcode="postcode",
                                         country="country")},
        "lines": lines, "channel": "woocommerce",
        "shipping": _money(payload.get("shipping_total", "0"), "shipping_total"),
        "shipping_method": _text(shipping_lines[0].get("method_title"))
        if shipping_lines and isinstance(shipping_lines[0], dict) else None,
        "notes": "\n".join(notes), "external_ref": reference,
    }
    return platform_id, _validated(order, WOOCOMMERCE_RENAMES), charged
