"""The order entry form: read what was typed into the same OrderIn the API uses, and show it back."""
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.schemas import OrderIn
from webapp.validation import CENT, field_errors


@dataclass
class EntryLine:
    sku: str
    quantity: str
    product: Product | None = None

    @property
    def quantity_number(self) -> int | None:
        return int(self.quantity) if re.fullmatch(r"[0-9]{1,6}", self.quantity.strip()) else None

    @property
    def line_total(self) -> Decimal | None:
        if self.product is None or self.quantity_number is None:
            return None
        return (self.product.unit_price * self.quantity_number).quantize(CENT)


@dataclass
class OrderEntry:
    """What the owner has typed so far, with the products it refers to and the errors to show."""
    values: dict
    lines: list[EntryLine]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total or Decimal("0") for line in self.lines), Decimal("0.00"))

    @property
    def shipping(self) -> Decimal:
        try:
            value = Decimal(self.values.get("shipping") or "0").quantize(CENT)
        except InvalidOperation:
            return Decimal("0.00")
        return value if value.is_finite() and value >= 0 else Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])


FIELDS = ("customer_name", "customer_email", "customer_phone", "line1", "line2", "city", "postcode", "country",
          "shipping", "shipping_method", "due_date", "notes")


def read_entry(form: MultiDict) -> OrderEntry:
    """Read the form, applying "add product" and "remove line" buttons, and look the SKUs up."""
    values = {name: form.get(name, "").strip() for name in FIELDS}
    # A draft from a pasted message keeps its channel through corrections until it is confirmed.
    values["channel"] = "paste" if form.get("channel") == "paste" else "web"
    skus = form.getlist("line_sku")
    quantities = form.getlist("line_qty")
    lines = [EntryLine(sku.strip(), (quantities[i] if i < len(quantities) else "1").strip())
             for i, sku in enumerate(skus) if sku.strip()]
    remove = form.get("remove_line", "")
    if remove.isascii() and remove.isdigit() and int(remove) < len(lines):
        del lines[int(remove)]
    added = form.get("add_sku", "").strip()
    if added:
        existing = next((line for line in lines if line.sku == added), None)
        if existing is not None and existing.quantity_number is not None:
            existing.quantity = str(existing.quantity_number + 1)
        elif existing is None:
            lines.append(EntryLine(added, "1"))
    wanted = {line.sku for line in lines}
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(wanted)))} if wanted else {}
    for line in lines:
        line.product = products.get(line.sku)
    return OrderEntry(values=values, lines=lines)


def _optional(value: str) -> str | None:
    return value or None


def entry_payload(entry: OrderEntry) -> dict:
    """The OrderIn-shaped dict for what was typed; quantities that are not whole numbers stay text."""
    v = entry.values
    address = {key: _optional(v[key]) for key in ("line1", "line2", "city", "postcode", "country")}
    return {
        "customer": {"name": v["customer_name"], "email": _optional(v["customer_email"]),
                     "phone": _optional(v["customer_phone"]),
                     "address": address if any(address.values()) else None},
        "lines": [{"sku": line.sku,
                   "quantity": line.quantity_number if line.quantity_number is not None else line.quantity}
                  for line in entry.lines],
        "channel": v.get("channel", "web"),
        "shipping": v["shipping"] or "0",
        "shipping_method": _optional(v["shipping_method"]),
        "due_date": _optional(v["due_date"]),
        "notes": v["notes"],
    }


# pydantic's field paths -> the form's input names
_FORM_NAMES = {"customer.name": "customer_name", "customer.email": "customer_email",
               "customer.phone": "customer_phone"}


def form_field(path: str) -> str:
    if path in _FORM_NAMES:
        return _FORM_NAMES[path]
    if path.startswith("customer.address."):
        return path.rsplit(".", 1)[1]
    if path == "customer.address":
        return "line1"
    if path.startswith("lines.") and path.count(".") == 2:
        _, index, name = path.split(".")
        return f"line_{'qty' if name == 'quantity' else 'sku'}_{index}"
    return path


def validate_entry(entry: OrderEntry) -> OrderIn | None:
    """The validated order, or None with ``entry.errors`` keyed by form input names."""
    try:
        data = OrderIn.model_validate(entry_payload(entry))
    except ValidationError as error:
        entry.errors = {form_field(path): messages for path, messages in field_errors(error).items()}
        if not entry.lines:
            entry.errors["lines"] = ["Add at least one product."]
        return None
    return data


def map_intake_errors(entry: OrderEntry, errors: dict[str, list[str]]) -> None:
    entry.errors = {form_field(path): messages for path, messages in errors.items()}


def draft_entry(values: dict[str, str], lines: list[tuple[str, int]], products: dict[str, Product]) -> OrderEntry:
    """The entry form pre-filled with a draft (from a pasted message): nothing stored until it is confirmed."""
    filled = {name: "" for name in FIELDS} | {"shipping_method": "Standard"} | values | {"channel": "paste"}
    return OrderEntry(values=filled,
                      lines=[EntryLine(sku, str(quantity), products.get(sku)) for sku, quantity in lines])
