"""Which column holds which field for each file format, and how a cell's text becomes a value."""
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

FORMATS = ("shopify", "woocommerce", "generic")
FIELDS = ("number", "date", "status", "sku", "name", "quantity", "unit_price", "currency", "customer_id",
          "customer_email", "customer_name", "country", "city")
# Fields a format may fill from extra columns when the main one is missing or blank.
EXTRA_FIELDS = ("customer_first_name", "customer_last_name", "cancelled_at")
# What the platform charged for the whole order (on its first row): kept as the order's figures, so an imported
# order's total is the one the customer paid rather than one worked out again from today's tax settings.
CHARGE_FIELDS = ("shipping", "tax", "discount", "total")

# Candidate headers per field, first found wins (compared without case, spaces, dashes or underscores).
CANDIDATES: dict[str, dict[str, tuple[str, ...]]] = {
    "shopify": {
        "number": ("Name",), "date": ("Created at",), "status": ("Fulfillment Status",),
        "sku": ("Lineitem sku",), "name": ("Lineitem name",), "quantity": ("Lineitem quantity",),
        "unit_price": ("Lineitem price",), "currency": ("Currency",), "customer_id": ("Id",),
        "customer_email": ("Email",), "customer_name": ("Billing Name", "Shipping Name"),
        "country": ("Shipping Country", "Billing Country"), "city": ("Shipping City", "Billing City"),
        "cancelled_at": ("Cancelled at",), "shipping": ("Shipping",), "tax": ("Taxes",),
        "discount": ("Discount Amount",), "total": ("Total",),
    },
    "woocommerce": {
        "number": ("Order Number", "Order ID", "order_id", "Order"), "date": ("Order Date", "Date", "date_created"),
        "status": ("Order Status", "Status"), "sku": ("SKU", "Item SKU", "Product SKU"),
        "name": ("Item Name", "Product Name", "Item"), "quantity": ("Quantity", "Item Quantity", "Qty"),
        "unit_price": ("Item Cost", "Item Price", "Price", "Cost"), "currency": ("Order Currency", "Currency"),
        "customer_id": ("Customer User ID", "Customer ID"),
        "customer_email": ("Billing Email Address", "Email (Billing)", "Billing Email", "Customer Email"),
        "customer_name": ("Billing Full Name", "Customer Name", "Billing Name"),
        "customer_first_name": ("Billing First Name", "First Name (Billing)"),
        "customer_last_name": ("Billing Last Name", "Last Name (Billing)"),
        "country": ("Shipping Country", "Country Code (Shipping)", "Billing Country", "Country Code (Billing)"),
        "city": ("Shipping City", "City (Shipping)", "Billing City", "City (Billing)"),
        "shipping": ("Order Shipping Amount", "Shipping Total", "Order Shipping"),
        "tax": ("Order Total Tax Amount", "Tax Total", "Order Tax"),
        "discount": ("Cart Discount Amount", "Discount Total", "Order Discount"),
        "total": ("Order Total Amount", "Order Total"),
    },
    "generic": {
        "number": ("number", "order number", "order", "order id", "order no", "order_number"),
        "date": ("date", "order date", "created at", "created"), "status": ("status", "order status"),
        "sku": ("sku", "product sku", "item sku"), "name": ("name", "product", "product name", "item name", "item"),
        "quantity": ("quantity", "qty"), "unit_price": ("unit price", "price", "unit_price", "item price"),
        "currency": ("currency",), "customer_id": ("customer id", "customer_id"),
        "customer_email": ("customer email", "email", "customer_email"),
        "customer_name": ("customer name", "customer", "customer_name"), "country": ("country", "country code"),
        "city": ("city", "town"),
    },
}

# Words a file uses for an order's state, in the shop's statuses. Open states are None: history mode takes
# only orders that are finished.
STATUS_WORDS = {
    "delivered": "delivered", "fulfilled": "delivered", "completed": "delivered", "complete": "delivered",
    "shipped": "delivered", "paid": "delivered", "closed": "delivered",
    "cancelled": "cancelled", "canceled": "cancelled", "failed": "cancelled", "voided": "cancelled",
    "refunded": "returned", "returned": "returned", "rejected": "rejected",
    "pending": None, "processing": None, "on-hold": None, "on hold": None, "unfulfilled": None,
    "partial": None, "partially fulfilled": None, "confirmed": None, "open": None,
}
PAYMENT_FOR_STATUS = {"delivered": "paid", "cancelled": "unpaid", "rejected": "unpaid", "returned": "refunded"}


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lower())


class MappingError(ValueError):
    """The file lacks a column the import needs, or a --map names a column the file does not have."""


def resolve_columns(header: list[str], fmt: str, overrides: dict[str, str] | None = None) -> dict[str, int]:
    """Field name -> column index for this file: the format's known headers, then the user's overrides."""
    if fmt not in FORMATS:
        raise MappingError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")
    positions = {}
    for index, name in enumerate(header):
        positions.setdefault(_key(name), index)
    columns: dict[str, int] = {}
    for field, candidates in CANDIDATES[fmt].items():
        for candidate in candidates:
            if _key(candidate) in positions:
                columns[field] = positions[_key(candidate)]
                break
    for field, column in (overrides or {}).items():
        if field not in FIELDS + EXTRA_FIELDS + CHARGE_FIELDS:
            raise MappingError(f"unknown field '{field}' (one of {', '.join(FIELDS + CHARGE_FIELDS)})")
        if not column:
            columns.pop(field, None)
            continue
        if _key(column) not in positions:
            raise MappingError(f"--map {field}={column}: the file has no column '{column}'")
        columns[field] = positions[_key(column)]
    missing = [field for field in ("number", "sku", "quantity") if field not in columns]
    if missing:
        raise MappingError("no column for " + ", ".join(missing) + "; name it with --map FIELD=COLUMN")
    return columns


def parse_mapping_options(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """['sku=Item code', ...] -> {'sku': 'Item code'}."""
    result = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep:
            raise MappingError(f"--map {pair}: write FIELD=COLUMN")
        result[field.strip()] = column.strip()
    return result


def country_code(text: str) -> str | None:
    """'gb' -> 'GB': a two-letter country code, or None for anything else (a country's name, blank)."""
    return text.upper() if len(text) == 2 and text.isalpha() else None


MONEY_JUNK = re.compile(r"[^\d,.\-]")
CURRENCY_SIGNS = "£$€"


def parse_money(text: str) -> Decimal:
    """'£1,234.50', '1.234,50 €', '12,50', 'USD 9.99' -> Decimal; ValueError when there is no number."""
    if text.isascii() and text.replace(".", "", 1).isdigit():  # the usual '12.50' needs no cleaning
        return Decimal(text)
    if text[:1] in CURRENCY_SIGNS and "." in text:  # '£1,234.50', the usual export's: as the cleaning below reads it
        digits = text[1:].replace(",", "")
        if digits.isascii() and digits.replace(".", "", 1).isdigit() and text.rfind(",") < text.find("."):
            return Decimal(digits)
    cleaned = MONEY_JUNK.sub("", text)
    negative = cleaned.startswith("-") or text.strip().startswith("(")
    cleaned = cleaned.replace("-", "")
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in cleaned:
        whole, _, last = cleaned.rpartition(",")
        # '1,234' and '1,234,567' group thousands; '12,5' and '12,50' use a decimal comma.
        cleaned = cleaned.replace(",", "") if len(last) == 3 else whole.replace(",", "") + "." + last
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a price") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not a price")
    return -value if negative else value


def parse_quantity(text: str) -> int:
    """'3', '-1', '2.0' -> int; ValueError for anything that is not a whole number."""
    if text.isascii() and text.isdigit():  # the usual '3', without the cost of a Decimal
        return int(text)
    cleaned = text.strip().replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"quantity '{text}' is not a whole number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"quantity '{text}' is not a whole number")
    return int(value)


DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S")


def parse_when(text: str, zone: ZoneInfo) -> datetime:
    """A date or time from the file as naive UTC; times without a zone are the shop's local time."""
    text = text.strip()
    value = None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        for pattern in DATE_FORMATS:
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(f"date '{text}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(12))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)
