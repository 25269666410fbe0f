"""Importing a shop's order file: history mode (bulk, past orders as they were) and live mode (through intake).

History mode writes rows as the real code would have: every order has its events and its totals follow the shop's
tax settings; no stock moves, so every product's counters still equal its ledger. Orders come in batches, each
committed on its own, so memory stays flat and a failure keeps the batches before it. An order is taken whole or
not at all: a bad row skips its order and is reported with its line number. Live mode is in live.py.
"""
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import func, select, update

from webapp.activity.recording import record_bulk
from webapp.bulk import (
    insert_rows,
    is_one_of,
    larger_sqlite_cache,
    new_ids,
    rare_garbage_collections,
    rarer_sqlite_checkpoints,
    rows_written_as_made,
)
from webapp.catalog.models import Product
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.imports.formats import PAYMENT_FOR_STATUS, country_code, resolve_columns
from webapp.imports.grouping import FileOrder, RowError, group_orders
from webapp.imports.histories import Foreseen, read_ahead
from webapp.imports.reading import FileReadError, read_rows
from webapp.orders.earlier_orders import fill_earlier_orders
from webapp.orders.intake import order_number, tax_on
from webapp.orders.models import NOT_SALES, Order, OrderEvent, OrderLine
from webapp.orders.shipping_times import fill_hours_to_ship
from webapp.orders.shop_days import shop_day_of
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_zone, utcnow
from webapp.validation import CENT, MAX_MONEY
from webapp.webhooks.models import ChannelOrder

CHANNEL = "import"
PLATFORMS = ("shopify", "woocommerce")  # formats whose orders may have come in by webhook already
BATCH_ORDERS = 5000  # orders per transaction: few commits, memory still flat
PREVIEW_ORDERS = 5
KEPT_ERRORS = 5000  # a file of nothing but bad rows should not fill the memory; the count stays exact
WALK_IN = "Walk-in customer"
LOOKED_UP_AT_ONCE = 5000  # ids per IN (...): within SQLite's bound parameters
EARLIER_ORDER_KEYS = ["earlier_orders", "earlier_total", "previous_order_at", "days_since_previous_order"]
UNKNOWN_EARLIER_ORDERS = (None, None, None, None)
# The columns of the rows a batch writes, in the order its tuples hold them: tuples cost less to make than dicts.
ORDER_KEYS = ["id", "number", "customer_id", "channel", "status", "payment_status", "priority", "currency", "subtotal",
              "shipping", "tax", "discount", "total", "ship_name", "ship_city", "ship_country", "external_ref", "notes",
              "hold_reasons", "created_at", "updated_at", "shop_day", *EARLIER_ORDER_KEYS]
LINE_KEYS = ["order_id", "product_id", "sku", "name", "quantity", "unit_price", "line_total"]
EVENT_KEYS = ["order_id", "kind", "from_status", "to_status", "note", "actor", "created_at"]


@dataclass
class ImportSummary:
    orders: int = 0
    lines: int = 0
    returns: int = 0
    held: int = 0
    already_imported: int = 0
    already_received: int = 0  # of those, orders received from the file's platform by webhook
    skipped_rows: int = 0
    rows: int = 0
    products_created: int = 0
    customers_created: int = 0
    total: Decimal = Decimal("0.00")
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    def reject(self, order: FileOrder, errors: list[RowError]) -> None:
        """Skip an order's rows, reporting why for each: its own fault, or a fault on another of its rows."""
        bad = {error.line for error in errors}
        reported = list(errors) + [RowError(line, f"skipped with order {order.number}: line "
                                                  f"{errors[0].line} has a problem", order.number)
                                   for line in order.row_lines if line not in bad]
        self.skipped_rows += len(order.row_lines)
        for error in sorted(reported, key=lambda e: e.line):
            self.error_count += 1
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(error)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["total"] = str(self.total)
        data["errors"] = [asdict(e) for e in self.errors]
        return data

    def describe(self) -> str:
        text = (f"{self.orders} orders, {self.lines} lines, {self.skipped_rows} skipped rows"
                f" ({self.rows} rows read; {self.already_imported} orders already imported")
        if self.already_received:
            text += f" ({self.already_received} of them received by webhook)"
        if self.returns:
            text += f"; {self.returns} returns"
        if self.held:
            text += f"; {self.held} held for review"
        return text + f"; {self.products_created} new products, {self.customers_created} new customers)"


def import_orders(path: Path | str, fmt: str, *, history: bool, dry_run: bool = False,
                  columns: dict[str, str] | None = None, actor: str = "import", filename: str | None = None,
                  progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Import a file of order lines; returns what was (or, on a dry run, would be) imported.

    Raises MappingError when the file lacks a needed column, FileReadError when it stops being readable CSV (the
    batches before are kept). ``progress`` is called with the rows read so far.
    """
    from webapp.imports.live import LiveImport  # here, not at the top: live.py builds on this module

    with read_rows(Path(path)) as (shape, rows), rare_garbage_collections():
        positions = resolve_columns(shape.header, fmt, columns)
        summary = ImportSummary()
        importer_class = HistoryImport if history else LiveImport
        importer = importer_class(summary, filename or Path(path).name, actor=actor,
                                  platform=fmt if fmt in PLATFORMS else None)
        batch: list[FileOrder] = []
        stored = 0
        try:
            if history and not dry_run:
                importer.read_ahead(path, positions, shop_zone())
            with larger_sqlite_cache(), rarer_sqlite_checkpoints():
                for order in group_orders(rows, positions, shop_zone()):
                    summary.rows += len(order.row_lines)
                    batch.append(order)
                    if len(batch) >= importer.batch_orders:
                        importer.take(batch)
                        batch = []
                        if not dry_run:
                            db.session.commit()
                            stored = summary.orders
                        if progress:
                            progress(summary.rows)
                if batch:
                    importer.take(batch)
            if dry_run:
                db.session.rollback()
            else:
                if history:
                    importer.fill_earlier_orders()
                else:
                    fill_earlier_orders()
                fill_hours_to_ship()
                db.session.commit()
        except BaseException as error:  # Ctrl-C and a job's timeout too: no stop may leave figures wrong
            db.session.rollback()
            if history and stored:
                fill_after_stop(importer)
            if isinstance(error, FileReadError):
                kept = "" if dry_run else f"; the {stored} orders before it are imported" if stored else \
                    "; nothing was imported"
                raise FileReadError(f"{error}{kept}.") from None
            raise
    if progress:
        progress(summary.rows)
    return summary


def fill_after_stop(importer: "HistoryImport") -> None:
    """An import that stops part-way keeps the batches it saved, whose orders' earlier orders may count orders of
    batches it never stored (histories.py): work its customers' figures out again from what is stored, and fill
    what a whole import fills at its end. Should the database fail meanwhile, the run's end does it (runs.fail_run,
    interrupted.end_stopped_run); the stop's own error is the one raised."""
    try:
        importer.fill_earlier_orders(stopped=True)
        fill_hours_to_ship()
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.warning("an import that stopped could not fill its figures", exc_info=True)


def received_from_platform(platform: str | None, numbers: set[str]) -> dict[str, tuple[int, str]]:
    """Orders of a Shopify or WooCommerce file that its platform's webhook delivered already, by their number in
    the file (the order's reference, or the platform's own id): number -> (order id, status)."""
    if platform is None or not numbers:
        return {}
    by_id = (select(ChannelOrder.platform_order_id, Order.id, Order.status)
             .join(Order, Order.id == ChannelOrder.order_id)
             .where(ChannelOrder.channel == platform, is_one_of(ChannelOrder.platform_order_id, numbers)))
    by_reference = (select(Order.external_ref, Order.id, Order.status)
                    .where(Order.channel == platform, is_one_of(Order.external_ref, numbers)))
    return {number: (order_id, status) for query in (by_id, by_reference)
            for number, order_id, status in db.session.execute(query)}


class HistoryImport:
    """Past orders with their own dates and statuses, written in bulk; stock is not touched."""

    batch_orders = BATCH_ORDERS

    def __init__(self, summary: ImportSummary, filename: str, *, actor: str, platform: str | None = None):
        self.summary = summary
        self.filename = filename
        self.actor = actor
        self.platform = platform
        settings = current_settings()  # read once: an ORM attribute costs more than the sums it feeds
        self.settings = SimpleNamespace(tax_rate_percent=settings.tax_rate_percent, currency=settings.currency,
                                        prices_include_tax=settings.prices_include_tax)
        self.zone = shop_zone()
        self.products: dict[str, tuple[int, Decimal]] = {}
        self.customers_by_email: dict[str, int] = {}
        self.customers_by_name: dict[str, int] = {}
        self.walk_in_id: int | None = None
        # Earlier orders written with the orders where the file tells them (histories.py), else filled after.
        self.foreseen: dict[int, Foreseen] = {}
        self.unforeseen: set[tuple[str, str]] = set()  # customers whose orders the read ahead got wrong
        self.created_customers: set[int] = set()
        self.orders_of_created: dict[int, int] = {}
        self.to_fill: set[int] = set()  # created customers with orders written with figures now known wrong

    def read_ahead(self, path: Path | str, columns: dict[str, int], zone) -> None:
        self.foreseen, self.unforeseen = read_ahead(path, columns, zone, self)

    def fill_earlier_orders(self, *, stopped: bool = False) -> None:
        """Fill the earlier orders the batches left out, and work out again those of any customer the import
        created that has orders from elsewhere too (taken meanwhile), or of every customer it created when it
        ``stopped`` part-way.

        On PostgreSQL the created customers are locked first, as earlier_orders locks a customer to work out its
        orders: an order taken for one of them now waits for this commit, then counts every imported order.
        """
        created = sorted(self.created_customers)
        postgres = db.session.get_bind().dialect.name == "postgresql"
        for i in range(0, len(created), LOOKED_UP_AT_ONCE):
            if postgres:
                db.session.execute(select(Customer.id).where(is_one_of(Customer.id, created[i:i + LOOKED_UP_AT_ONCE]))
                                   .order_by(Customer.id).with_for_update(key_share=True))
            for customer_id, count in db.session.execute(
                    select(Order.customer_id, func.count(Order.id))
                    .where(is_one_of(Order.customer_id, created[i:i + LOOKED_UP_AT_ONCE])).group_by(Order.customer_id)):
                if count != self.orders_of_created.get(customer_id, 0):
                    self.to_fill.add(customer_id)
        fill_earlier_orders(customers=self.to_fill | self.created_customers if stopped else self.to_fill)

    @staticmethod
    def customer_key(order: FileOrder) -> tuple[str, str]:
        """Who an order's customer is: by email, else by name, else the walk-in customer."""
        email = order.fields.get("customer_email", "").lower()
        if "@" in email:
            return ("email", email[:254])
        name = order.customer_name
        return ("name", name) if name else ("walk-in", WALK_IN)

    def problem(self, order: FileOrder) -> RowError | None:
        """Why a well-read order cannot be taken in history mode, if it cannot."""
        if order.status == "open":
            return RowError(order.first_line, f"order {order.number} is still open (status "
                                              f"'{order.fields.get('status')}'); import open orders without "
                                              "--history", order.number)
        if order.created_at is None:
            return RowError(order.first_line, "no order date", order.number)
        if self._order_total(order) > MAX_MONEY:
            return RowError(order.first_line, f"order total larger than {MAX_MONEY}", order.number)
        return None

    def charged_total(self, order: FileOrder) -> Decimal | None:
        """The order's total as it will be stored, when the file prices every line (else None)."""
        subtotal = Decimal("0.00")
        for line in order.lines:
            if line.unit_price is None:
                return None
            subtotal += (line.unit_price.quantize(CENT) * line.quantity).quantize(CENT)
        return self._charges(order, subtotal)[3]

    def _foreseen_wrongly(self, customer: tuple[str, str], customer_id: int | None = None) -> None:
        """The customer's orders are not all as the read ahead saw them: no more figures from it, and those
        written already are worked out again after the batches."""
        self.unforeseen.add(customer)
        if customer_id is None:
            known = self.customers_by_email if customer[0] == "email" else self.customers_by_name
            customer_id = known.get(customer[1])
        if customer_id in self.created_customers:
            self.to_fill.add(customer_id)

    def take(self, batch: list[FileOrder]) -> None:
        summary = self.summary
        numbers = {order.number for order in batch if order.number}
        received = received_from_platform(self.platform, numbers)
        existing = {**{number: (order_id, status, {}) for number, (order_id, status) in received.items()},
                    **self._existing(numbers)}
        new_orders: list[FileOrder] = []
        returns: list[FileOrder] = []
        numbers_now: set[str] = set()
        for order in batch:
            errors = list(order.errors)
            if not errors and not order.returns_only:
                if order.number in existing:
                    summary.already_imported += 1
                    summary.already_received += order.number in received
                    if order.first_line in self.foreseen:
                        self._foreseen_wrongly(self.foreseen[order.first_line].customer)
                    continue
                problem = self.problem(order)
                if problem is not None:
                    errors.append(problem)
            if errors:
                summary.reject(order, errors)
                continue
            if order.returns_only:
                returns.append(order)
            else:
                new_orders.append(order)
                numbers_now.add(order.number)
                if order.returns:
                    returns.append(order)
        created = self._insert_orders(new_orders) if new_orders else {}
        returns_before = summary.returns
        for order in returns:
            self._apply_return(order, created.get(order.number) or existing.get(order.number))
        if created or summary.returns > returns_before:  # bulk rows bypass the ORM: one log entry per batch
            record_bulk(db.session, kind="import", thing_ref=self.filename,
                        note=f"History import of {len(created)} orders and {summary.returns - returns_before} "
                             f"returns (by {self.actor}).")

    def _existing(self, numbers: set[str]) -> dict[str, tuple[int, str, dict]]:
        if not numbers:
            return {}
        found = db.session.execute(
            select(Order.external_ref, Order.id, Order.status)
            .where(Order.channel == CHANNEL, is_one_of(Order.external_ref, numbers)))
        return {ref: (order_id, status, {}) for ref, order_id, status in found}

    def _charges(self, order: FileOrder, subtotal: Decimal) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(shipping, tax, discount, total): what the file says was charged; what it leaves out is worked out as
        the shop would (tax from the settings, total from the rest)."""
        settings, charged = self.settings, order.charged
        shipping = charged.get("shipping", Decimal("0.00"))
        discount = charged.get("discount", Decimal("0.00"))
        inclusive = settings.prices_include_tax
        tax = charged["tax"] if "tax" in charged else tax_on(subtotal + shipping - discount, settings)
        total = charged["total"] if "total" in charged else (
            subtotal + shipping - discount + (Decimal("0.00") if inclusive else tax))
        return shipping, tax, discount, total

    def _order_total(self, order: FileOrder) -> Decimal:
        return sum(((line.unit_price or Decimal(0)) * line.quantity for line in order.lines), Decimal(0))

    def _product_ids(self, orders: list[FileOrder]) -> None:
        wanted = {line.sku for order in orders for line in order.lines} - self.products.keys()
        if not wanted:
            return
        for sku, product_id, price in db.session.execute(
                select(Product.sku, Product.id, Product.unit_price).where(is_one_of(Product.sku, wanted))):
            self.products[sku] = (product_id, price)
        unknown: dict[str, tuple[str, Decimal]] = {}
        for order in orders:
            for line in order.lines:
                if line.sku not in self.products and line.sku not in unknown:
                    unknown[line.sku] = (line.name, (line.unit_price or Decimal("0")).quantize(CENT))
        if not unknown:
            return
        ids = new_ids(Product, len(unknown))
        now = utcnow()
        insert_rows(Product, [{"id": product_id, "sku": sku, "name": name, "unit_price": price, "on_hand": 0,
                               "reserved": 0, "reorder_point": 0, "lead_time_days": 7, "active": True,
                               "created_at": now, "updated_at": now}
                              for product_id, (sku, (name, price)) in zip(ids, unknown.items(), strict=True)])
        for product_id, (sku, (_, price)) in zip(ids, unknown.items(), strict=True):
            self.products[sku] = (product_id, price)
        self.summary.products_created += len(unknown)

    def _customer_ids(self, orders: list[FileOrder]) -> list[tuple[int, tuple[str, str]]]:
        """The customer of each order and who it is (customer_key): matched on email, else on name, else the
        walk-in customer."""
        emails = {o.fields["customer_email"].lower() for o in orders if "@" in o.fields.get("customer_email", "")}
        emails -= self.customers_by_email.keys()
        if emails:
            for email, customer_id in db.session.execute(
                    select(Customer.email, Customer.id).where(is_one_of(Customer.email, emails))
                    .order_by(Customer.id.desc())):
                self.customers_by_email[email] = customer_id
        names = {o.customer_name for o in orders if "@" not in o.fields.get("customer_email", "") and o.customer_name}
        names -= self.customers_by_name.keys()
        if names:
            for name, customer_id in db.session.execute(
                    select(Customer.name, Customer.id).where(is_one_of(Customer.name, names), Customer.email.is_(None))
                    .order_by(Customer.id.desc())):
                self.customers_by_name[name] = customer_id
        new_rows: dict[tuple[str, str], dict] = {}
        keys = []
        for order in orders:
            key = self.customer_key(order)
            name = order.customer_name
            if key[0] == "email":
                known = self.customers_by_email.get(key[1])
            elif key[0] == "name":
                known = self.customers_by_name.get(name)
            else:
                known = self._walk_in()
            keys.append(key)
            if known is None and key not in new_rows:
                new_rows[key] = {
                    "name": (name or key[1].split("@")[0])[:200], "email": key[1] if key[0] == "email" else None,
                    "city": order.fields.get("city", "")[:100] or None,
                    "country": country_code(order.fields.get("country", "")),
                    "tags": "", "notes": f"Imported from {self.filename}"[:5000], "blocked": False,
                    "created_at": order.created_at,
                }
        if new_rows:
            ids = new_ids(Customer, len(new_rows))
            for customer_id, (key, row) in zip(ids, new_rows.items(), strict=True):
                row["id"] = customer_id
                if key[0] == "email":
                    self.customers_by_email[key[1]] = customer_id
                else:
                    self.customers_by_name[key[1]] = customer_id
            insert_rows(Customer, list(new_rows.values()))
            self.summary.customers_created += len(new_rows)
            self.created_customers.update(ids)
        return [(self.customers_by_email[key[1]] if key[0] == "email" else self.customers_by_name[key[1]], key)
                for key in keys]

    def _walk_in(self) -> int | None:
        if WALK_IN not in self.customers_by_name:
            found = db.session.scalar(select(Customer.id).where(Customer.name == WALK_IN, Customer.email.is_(None))
                                      .order_by(Customer.id).limit(1))
            if found is not None:
                self.customers_by_name[WALK_IN] = found
        return self.customers_by_name.get(WALK_IN)

    def _insert_orders(self, orders: list[FileOrder]) -> dict[str, tuple[int, str, dict]]:
        settings, summary, zone, products = self.settings, self.summary, self.zone, self.products
        self._product_ids(orders)
        customer_ids = self._customer_ids(orders)
        order_ids = new_ids(Order, len(orders))
        line_rows, event_rows = [], []
        created: dict[str, tuple[int, str, dict]] = {}
        source_start, actor, zero = f"Imported from {self.filename}, line ", self.actor, Decimal("0.00")
        # Each order's row goes to the database as soon as it is made (on PostgreSQL the server stores it while
        # the batch's later rows are made); lines and events follow, as their orders must be stored first.
        with rows_written_as_made(Order, ORDER_KEYS) as write_order:
            for order, order_id, (customer_id, customer) in zip(orders, order_ids, customer_ids, strict=True):
                subtotal = zero
                units: dict[str, int] = {}
                first_line_row = len(line_rows)
                for line in order.lines:
                    sku, quantity = line.sku, line.quantity
                    product_id, catalogue_price = products[sku]
                    price = (line.unit_price if line.unit_price is not None else catalogue_price).quantize(CENT)
                    line_total = (price * quantity).quantize(CENT)
                    subtotal += line_total
                    units[sku] = units.get(sku, 0) + quantity
                    line_rows.append((order_id, product_id, sku, line.name, quantity, price, line_total))
                shipping, tax, discount, total = self._charges(order, subtotal)
                status = order.status or "delivered"
                fields = order.fields
                currency = fields.get("currency", "").upper()
                at = order.created_at
                figures = self._earlier_orders(order, customer_id, customer, status, total)
                write_order((
                    order_id, order_number(order_id), customer_id, CHANNEL, status, PAYMENT_FOR_STATUS[status],
                    "standard", currency if len(currency) == 3 and currency.isalpha() else settings.currency,
                    subtotal, shipping, tax, discount, total, order.customer_name or None,
                    fields.get("city", "")[:100] or None, country_code(fields.get("country", "")), order.number[:100],
                    "", [], at, at, shop_day_of(at, zone),  # the day as the ORM would store it: no pass after
                    *figures,
                ))
                event_rows.append((order_id, "created", None, "pending", f"{source_start}{order.first_line}.", actor,
                                   at))
                event_rows.append((order_id, "status", "pending", status, "History import: status as in the file.",
                                   actor, at))
                created[order.number] = (order_id, status, units)
                summary.orders += 1
                summary.lines += len(order.lines)
                summary.total += total
                if len(summary.preview) < PREVIEW_ORDERS:
                    summary.preview.append({
                        "number": order.number, "line": order.first_line, "date": at.isoformat(sep=" "),
                        "status": status, "customer": order.customer_name or fields.get("customer_email") or WALK_IN,
                        "lines": [{"sku": row[2], "quantity": row[4], "unit_price": str(row[5])}
                                  for row in line_rows[first_line_row:]],
                        "total": str(total),
                    })
        insert_rows(OrderLine, line_rows, LINE_KEYS)
        insert_rows(OrderEvent, event_rows, EVENT_KEYS)
        return created

    def _earlier_orders(self, order: FileOrder, customer_id: int, customer: tuple[str, str], status: str,
                        total: Decimal) -> tuple:
        """The order's earlier orders (EARLIER_ORDER_KEYS) when the read ahead foresaw them rightly, else NULLs for
        the fill."""
        if customer_id not in self.created_customers:
            return UNKNOWN_EARLIER_ORDERS
        self.orders_of_created[customer_id] = self.orders_of_created.get(customer_id, 0) + 1
        seen = self.foreseen.get(order.first_line)
        if seen is None or customer in self.unforeseen or (seen.customer, seen.created_at, seen.earns, seen.total) != (
                customer, order.created_at, status not in NOT_SALES, total):
            self._foreseen_wrongly(customer, customer_id)
            return UNKNOWN_EARLIER_ORDERS
        return (seen.earlier_orders, seen.earlier_total, seen.previous_order_at, seen.days_since_previous_order)

    def _apply_return(self, order: FileOrder, original: tuple[int, str, dict] | None) -> None:
        """Goods sent back: the original order becomes returned (refunded, or partly when not all came back)."""
        summary = self.summary
        first = order.returns[0].line
        if original is None:
            summary.reject(order, [RowError(first, f"return against order {order.number}, which is not found",
                                            order.number)])
            return
        order_id, status, units = original
        if status == "returned":
            summary.already_imported += 1
            return
        if status not in ("delivered", "shipped"):
            summary.reject(order, [RowError(first, f"return against order {order.number}, which is {status}",
                                            order.number)])
            return
        if not units:
            units = {}
            for sku, quantity in db.session.execute(
                    select(OrderLine.sku, OrderLine.quantity).where(OrderLine.order_id == order_id)):
                units[sku] = units.get(sku, 0) + quantity
        returned: dict[str, int] = {}
        for line in order.returns:
            returned[line.sku] = returned.get(line.sku, 0) + line.quantity
        too_many = [sku for sku, quantity in returned.items() if quantity > units.get(sku, 0)]
        if too_many:
            summary.reject(order, [RowError(first, f"return of more {too_many[0]} than order {order.number} has",
                                            order.number)])
            return
        payment = "refunded" if returned == units else "partially_refunded"
        at = order.created_at or utcnow()
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(status="returned", payment_status=payment, updated_at=at))
        items = ", ".join(f"{quantity} × {sku}" for sku, quantity in returned.items())
        insert_rows(OrderEvent, [{"order_id": order_id, "kind": "status", "from_status": status,
                                  "to_status": "returned", "actor": self.actor, "created_at": at,
                                  "note": f"Returned {items} (imported from {self.filename}, line {first})."}])
        summary.returns += 1
