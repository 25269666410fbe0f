"""Rows of a file become orders: one row per line item, the rows of one order next to each other."""
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from webapp.imports.formats import CHARGE_FIELDS, STATUS_WORDS, parse_money, parse_quantity, parse_when
from webapp.validation import MAX_MONEY, MAX_QUANTITY

# An order's number in the file is kept as its reference (orders.external_ref, 100 characters) and is how a second
# import of the same file knows the order: a longer one would be cut when stored and never found again.
MAX_NUMBER_LENGTH = 100


@dataclass
class RowError:
    line: int
    reason: str
    number: str = ""


@dataclass
class FileLine:
    line: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal | None


@dataclass
class FileOrder:
    """One order as the file tells it; ``errors`` empty when every row of it reads well."""

    number: str
    first_line: int
    fields: dict[str, str] = field(default_factory=dict)  # order-level cells: first non-blank value wins
    lines: list[FileLine] = field(default_factory=list)
    returns: list[FileLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    created_at: datetime | None = None
    status: str | None = None  # the file's word in the shop's terms; None when the file says nothing
    charged: dict[str, Decimal] = field(default_factory=dict)  # shipping, tax, discount, total as the file says

    @property
    def returns_only(self) -> bool:
        return bool(self.returns) and not self.lines

    @property
    def customer_name(self) -> str:
        """The customer's name as the file gives it, else 'Customer <id>' from its customer id, else ''."""
        name = self.fields.get("customer_name", "").strip()
        if not name and self.fields.get("customer_id"):
            name = f"Customer {self.fields['customer_id']}"
        return name[:200]


ORDER_FIELDS = ("date", "status", "currency", "customer_id", "customer_email", "customer_name",
                "customer_first_name", "customer_last_name", "country", "city", "cancelled_at", *CHARGE_FIELDS)


def group_orders(rows: Iterator[tuple[int, list[str]]], columns: dict[str, int],
                 zone: ZoneInfo) -> Iterator[FileOrder]:
    """Orders in file order. Rows whose order number appeared earlier (not next to it) are reported, unless
    they only return goods, which is how a later refund row refers to its order."""
    when = lru_cache(maxsize=4096)(lambda text: parse_when(text, zone))
    number_at = columns["number"]
    sku_at, quantity_at = columns["sku"], columns["quantity"]
    name_at, price_at = columns.get("name"), columns.get("unit_price")
    order_field_at = [(name, columns[name]) for name in ORDER_FIELDS if name in columns]
    width = max(columns.values()) + 1
    seen: set[str] = set()
    current: FileOrder | None = None

    for line, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        damaged = None
        if "\x00" in "".join(cells):  # PostgreSQL stores no NUL character: refuse the row by name instead
            damaged = [(name, at) for name, at in columns.items() if "\x00" in cells[at]]
            cells = [cell.replace("\x00", "") for cell in cells]
        number = cells[number_at].strip()
        if current is not None and number != current.number:
            yield _finish(current, seen, when)
            current = None
        if current is None:
            current = FileOrder(number=number, first_line=line)
        current.row_lines.append(line)
        if damaged:
            current.errors.append(RowError(line, ", ".join(f"{name} (column {at + 1})" for name, at in damaged)
                                           + " contains a NUL character", number))
            continue
        fields = current.fields
        for name, at in order_field_at:
            if cells[at] and name not in fields:  # most rows after an order's first leave these blank
                value = cells[at].strip()
                if value:
                    fields[name] = value
        if not number:
            current.errors.append(RowError(line, "no order number"))
            continue
        if len(number) > MAX_NUMBER_LENGTH:
            current.errors.append(RowError(line, f"order number is longer than {MAX_NUMBER_LENGTH} characters",
                                           number[:MAX_NUMBER_LENGTH]))
            continue
        sku = cells[sku_at].strip()
        if not sku:
            current.errors.append(RowError(line, "no SKU", number))
            continue
        try:
            quantity = parse_quantity(cells[quantity_at])
            price_text = cells[price_at].strip() if price_at is not None else ""
            price = parse_money(price_text) if price_text else None
        except ValueError as error:
            current.errors.append(RowError(line, str(error), number))
            continue
        if price is not None and price < 0:
            current.errors.append(RowError(line, f"price '{cells[price_at]}' is negative", number))
            continue
        if quantity == 0:
            current.errors.append(RowError(line, "quantity is 0", number))
            continue
        if abs(quantity) > MAX_QUANTITY:
            current.errors.append(RowError(line, f"quantity '{cells[quantity_at].strip()}' is more than "
                                                 f"{MAX_QUANTITY:,}", number))
            continue
        name = (cells[name_at].strip() if name_at is not None else "") or sku
        target = current.returns if quantity < 0 else current.lines
        target.append(FileLine(line, sku[:64], name[:200], abs(quantity), price))
    if current is not None:
        yield _finish(current, seen, when)


def _finish(order: FileOrder, seen: set[str], when) -> FileOrder:
    if not order.number:
        return order
    if order.number in seen and order.lines:
        order.errors.append(RowError(order.first_line, f"rows of order {order.number} are not next to each "
                                                       "other in the file; keep an order's rows together",
                                     order.number))
    seen.add(order.number)
    fields = order.fields
    if "date" in fields:
        try:
            order.created_at = when(fields["date"])
        except ValueError as error:
            order.errors.append(RowError(order.first_line, str(error), order.number))
    if fields.get("cancelled_at"):
        order.status = "cancelled"
    elif "status" in fields:
        word = fields["status"].strip().lower()
        if word not in STATUS_WORDS:
            order.errors.append(RowError(order.first_line, f"status '{fields['status']}' is not one the import "
                                                           "knows", order.number))
        else:
            order.status = STATUS_WORDS[word] or "open"
    for name in CHARGE_FIELDS:
        if name in fields:
            try:
                amount = parse_money(fields[name])
            except ValueError as error:
                order.errors.append(RowError(order.first_line, f"{name}: {error}", order.number))
                continue
            if amount < 0 or amount > MAX_MONEY:
                order.errors.append(RowError(order.first_line, f"{name} '{fields[name]}' must be between 0 and "
                                                               f"{MAX_MONEY}", order.number))
            else:
                order.charged[name] = amount
    if not fields.get("customer_name"):
        full = " ".join(part for part in (fields.get("customer_first_name"), fields.get("customer_last_name"))
                        if part)
        if full:
            fields["customer_name"] = full
    return order
