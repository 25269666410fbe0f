"""The exported tables: each a header and the rows of a date range, read in batches so memory stays flat."""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from webapp.catalog.models import Product, StockMovement
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.orders.models import Order, OrderLine
from webapp.timekeeping import shop_zone, utc_bounds

BATCH = 1000
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Range:
    """Shop days [first, last], with the UTC bounds and the zone that shop times are written in."""
    first: date
    last: date

    def bounds(self) -> tuple[datetime, datetime]:
        return utc_bounds(self.first, self.last)


def shop_time(value: datetime | None, zone) -> str:
    """A stored UTC time as the shop's local time, 'YYYY-MM-DD HH:MM:SS'."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Decimal | None) -> Decimal | str:
    """Money as a decimal with two places, written '12.50' (never a float, never '-0.00').

    A Decimal rather than text, so that the spreadsheet guard leaves a negative amount alone."""
    return "" if value is None else (Decimal(value) + 0).quantize(CENT)


def _stream(query):
    """Rows of a query in batches (a server-side cursor on PostgreSQL): memory does not grow with the table."""
    return db.session.execute(query.execution_options(yield_per=BATCH))


def orders(span: Range) -> Iterator[list]:
    start, end = span.bounds()
    zone = shop_zone()
    query = (select(Order.number, Order.created_at, Customer.name, Customer.email, Order.channel, Order.status,
                    Order.payment_status, Order.priority, Order.currency, Order.subtotal, Order.shipping,
                    Order.discount, Order.tax, Order.total, Order.due_date, Order.shipped_at, Order.carrier,
                    Order.tracking_number, Order.external_ref, Order.ship_country)
             .join(Customer, Customer.id == Order.customer_id)
             .where(Order.created_at >= start, Order.created_at < end).order_by(Order.created_at, Order.id))
    for row in _stream(query):
        yield [row.number, shop_time(row.created_at, zone), row.name, row.email, row.channel, row.status,
               row.payment_status, row.priority, row.currency, money(row.subtotal), money(row.shipping),
               money(row.discount), money(row.tax), money(row.total), row.due_date or "",
               shop_time(row.shipped_at, zone), row.carrier, row.tracking_number, row.external_ref, row.ship_country]


def order_lines(span: Range) -> Iterator[list]:
    start, end = span.bounds()
    zone = shop_zone()
    query = (select(Order.number, Order.created_at, Order.status, Order.currency, OrderLine.sku, OrderLine.name,
                    OrderLine.quantity, OrderLine.unit_price, OrderLine.line_total)
             .join(Order, Order.id == OrderLine.order_id)
             .where(Order.created_at >= start, Order.created_at < end)
             .order_by(Order.created_at, Order.id, OrderLine.id))
    for row in _stream(query):
        yield [row.number, shop_time(row.created_at, zone), row.status, row.sku, row.name, row.quantity,
               row.currency, money(row.unit_price), money(row.line_total)]


def customers(span: Range) -> Iterator[list]:
    start, end = span.bounds()
    zone = shop_zone()
    query = (select(Customer).where(Customer.created_at >= start, Customer.created_at < end)
             .order_by(Customer.created_at, Customer.id))
    for customer in _stream(query).scalars():
        yield [customer.id, shop_time(customer.created_at, zone), customer.name, customer.email, customer.phone,
               customer.address_line1, customer.address_line2, customer.city, customer.postcode, customer.country,
               customer.tags, "yes" if customer.blocked else "no", customer.notes]


def products(span: Range) -> Iterator[list]:
    # The catalogue as it stands: a product has no date the range could apply to beyond its creation.
    zone = shop_zone()
    query = select(Product).order_by(Product.sku)
    for product in _stream(query).scalars():
        yield [product.sku, product.name, "yes" if product.active else "no", money(product.unit_price),
               money(product.unit_cost), product.on_hand, product.reserved, product.on_hand - product.reserved,
               product.reorder_point, product.lead_time_days, product.supplier_email,
               shop_time(product.created_at, zone)]


def stock_movements(span: Range) -> Iterator[list]:
    start, end = span.bounds()
    zone = shop_zone()
    query = (select(StockMovement.created_at, Product.sku, StockMovement.kind, StockMovement.on_hand_delta,
                    StockMovement.reserved_delta, Order.number, StockMovement.reason, StockMovement.actor)
             .join(Product, Product.id == StockMovement.product_id)
             .outerjoin(Order, Order.id == StockMovement.order_id)
             .where(StockMovement.created_at >= start, StockMovement.created_at < end)
             .order_by(StockMovement.created_at, StockMovement.id))
    for row in _stream(query):
        yield [shop_time(row.created_at, zone), row.sku, row.kind, row.on_hand_delta, row.reserved_delta,
               row.number, row.reason, row.actor]


def _documents(span: Range):
    start, end = span.bounds()
    return (select(Invoice.number, Invoice.kind, Invoice.issued_at, Order.number.label("order_number"),
                   Customer.name, Invoice.currency, Invoice.tax_rate_percent, Invoice.subtotal, Invoice.shipping,
                   Invoice.tax, Invoice.total)
            .join(Order, Order.id == Invoice.order_id).join(Customer, Customer.id == Order.customer_id)
            .where(Invoice.issued_at >= start, Invoice.issued_at < end).order_by(Invoice.issued_at, Invoice.id))


def _sign(kind: str) -> int:
    """A credit note takes money back: its amounts count negative, so that sums give what was really sold."""
    return -1 if kind == "credit_note" else 1


def invoices(span: Range) -> Iterator[list]:
    zone = shop_zone()
    for row in _stream(_documents(span)):
        sign = _sign(row.kind)
        yield [row.number, row.kind, shop_time(row.issued_at, zone), row.order_number, row.name, row.currency,
               money(row.tax_rate_percent), money(sign * row.subtotal), money(sign * row.shipping),
               money(sign * row.tax), money(sign * row.total)]


def accountant(span: Range) -> Iterator[list]:
    """Every invoice and credit note with net, tax and gross, then the totals per tax rate (and currency)."""
    zone = shop_zone()
    totals: dict[tuple[str, Decimal], list[Decimal]] = {}
    for row in _stream(_documents(span)):
        sign = _sign(row.kind)
        net, tax, gross = sign * (row.total - row.tax), sign * row.tax, sign * row.total
        key = (row.currency, Decimal(row.tax_rate_percent))
        sums = totals.setdefault(key, [Decimal("0"), Decimal("0"), Decimal("0")])
        sums[0], sums[1], sums[2] = sums[0] + net, sums[1] + tax, sums[2] + gross
        yield [row.number, "Credit note" if row.kind == "credit_note" else "Invoice",
               shop_time(row.issued_at, zone)[:10], row.order_number, row.name, row.currency,
               money(row.tax_rate_percent), money(net), money(tax), money(gross)]
    yield []
    yield ["Totals per tax rate", "", f"{span.first.isoformat()} to {span.last.isoformat()}"]
    yield ["currency", "tax rate %", "net", "tax", "gross"]
    for (currency, rate), (net, tax, gross) in sorted(totals.items()):
        yield [currency, money(rate), money(net), money(tax), money(gross)]


# name -> (title, header, rows of a range), in the order the page lists them.
TABLES = {
    "orders": ("Orders", ["order", "placed at", "customer", "email", "channel", "status", "payment status",
                          "priority", "currency", "subtotal", "shipping", "discount", "tax", "total", "due date",
                          "shipped at", "carrier", "tracking number", "external reference", "ship country"], orders),
    "order-lines": ("Order lines", ["order", "placed at", "status", "sku", "name", "quantity", "currency",
                                    "unit price", "line total"], order_lines),
    "customers": ("Customers (added in the range)", ["id", "added at", "name", "email", "phone", "address line 1",
                                                     "address line 2", "city", "postcode", "country", "tags",
                                                     "blocked", "notes"], customers),
    "products": ("Products (the whole catalogue, as it is now)",
                 ["sku", "name", "active", "unit price", "unit cost", "on hand", "reserved", "available",
                  "reorder point", "lead time days", "supplier email", "added at"], products),
    "stock-movements": ("Stock movements", ["at", "sku", "kind", "on hand change", "reserved change", "order",
                                            "reason", "actor"], stock_movements),
    "invoices": ("Invoices and credit notes", ["number", "kind", "issued at", "order", "customer", "currency",
                                               "tax rate %", "subtotal", "shipping", "tax", "total"], invoices),
    "accountant": ("For the accountant: net, tax and gross, with totals per tax rate",
                   ["number", "document", "date", "order", "customer", "currency", "tax rate %", "net", "tax",
                    "gross"], accountant),
}
