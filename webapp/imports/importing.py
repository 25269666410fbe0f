"""Importing a shop's order file: history mode (bulk, past orders as they were) and live mode (through intake).

History mode writes rows as the real code would have: every order has its events and its totals follow the shop's
tax settings; no stock moves, so every product's counters still equal its ledger. Orders come in batches, each
committed on its own, so memory stays flat and a failure keeps the batches before it. An order is taken whole or
not at all: a bad row skips its order and is reported with its line number.
"""
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from flask import g
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from webapp.bulk import new_ids
from webapp.catalog.models import Product
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.imports.formats import PAYMENT_FOR_STATUS, resolve_columns
from webapp.imports.grouping import FileOrder, RowError, group_orders
from webapp.imports.reading import read_rows
from webapp.orders.earlier_orders import fill_earlier_orders
from webapp.orders.intake import OrderInputError, order_number, take_order, tax_on
from webapp.orders.models import Order, OrderEvent, OrderLine
from webapp.orders.schemas import OrderIn
from webapp.orders.shipping_times import fill_hours_to_ship
from webapp.orders.shop_days import fill_shop_days
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_zone, utcnow
from webapp.validation import CENT, MAX_MONEY

CHANNEL = "import"
BATCH_ORDERS = 5000  # orders per transaction: few commits, memory still flat
PREVIEW_ORDERS = 5
KEPT_ERRORS = 5000  # a file of nothing but bad rows should not fill the memory; the count stays exact
WALK_IN = "Walk-in customer"


@dataclass
class ImportSummary:
    orders: int = 0
    lines: int = 0
    returns: int = 0
    held: int = 0
    already_imported: int = 0
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
        if self.returns:
            text += f"; {self.returns} returns"
        if self.held:
            text += f"; {self.held} held for review"
        return text + f"; {self.products_created} new products, {self.customers_created} new customers)"


def import_orders(path: Path | str, fmt: str, *, history: bool, dry_run: bool = False,
                  columns: dict[str, str] | None = None, actor: str = "import", filename: str | None = None,
                  progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Import a file of order lines; returns what was (or, on a dry run, would be) imported.

    Raises MappingError when the file lacks a needed column. ``progress`` is called with the rows read so far.
    """
    with read_rows(Path(path)) as (shape, rows):
        positions = resolve_columns(shape.header, fmt, columns)
        summary = ImportSummary()
        importer_class = HistoryImport if history else LiveImport
        importer = importer_class(summary, filename or Path(path).name, actor=actor)
        batch: list[FileOrder] = []
        try:
            for order in group_orders(rows, positions, shop_zone()):
                summary.rows += len(order.row_lines)
                batch.append(order)
                if len(batch) >= BATCH_ORDERS:
                    importer.take(batch)
                    batch = []
                    if not dry_run:
                        db.session.commit()
                    if progress:
                        progress(summary.rows)
            if batch:
                importer.take(batch)
            if dry_run:
                db.session.rollback()
            else:
                fill_shop_days()  # the bulk inserts bypass the ORM events that store them
                fill_earlier_orders()
                fill_hours_to_ship()
                db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    if progress:
        progress(summary.rows)
    return summary


def _insert(model, rows: list[dict]) -> None:
    """Many rows in one executemany on the driver, the columns' own bind processors applied once per value.

    Going through session.execute costs more per row than the insert itself (parameter compilation); the values
    are the same as SQLAlchemy would send.
    """
    if not rows:
        return
    table = model.__table__
    keys = list(rows[0])
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    processors = {key: table.c[key].type._cached_bind_processor(dialect) for key in keys}
    if compiled.positional:
        order = [compiled.binds[name].key for name in compiled.positiontup]
        params = [list(values) for values in map(itemgetter(*order), rows)] if len(order) > 1 else \
            [[row[order[0]]] for row in rows]
        converted = [(position, processors[key]) for position, key in enumerate(order) if processors[key]]
    else:
        names = {compiled.binds[name].key: name for name in compiled.binds}
        params = [{names[key]: value for key, value in row.items()} for row in rows]
        converted = [(names[key], processor) for key, processor in processors.items() if processor]
    for at, processor in converted:
        for values in params:
            if values[at] is not None:
                values[at] = processor(values[at])
    if compiled.positional:
        params = list(map(tuple, params))
    connection.exec_driver_sql(compiled.string, params)


class HistoryImport:
    """Past orders with their own dates and statuses, written in bulk; stock is not touched."""

    def __init__(self, summary: ImportSummary, filename: str, *, actor: str):
        self.summary = summary
        self.filename = filename
        self.actor = actor
        self.settings = current_settings()
        self.products: dict[str, tuple[int, Decimal]] = {}
        self.customers_by_email: dict[str, int] = {}
        self.customers_by_name: dict[str, int] = {}
        self.walk_in_id: int | None = None

    def take(self, batch: list[FileOrder]) -> None:
        summary = self.summary
        existing = self._existing({order.number for order in batch if order.number})
        new_orders: list[FileOrder] = []
        returns: list[FileOrder] = []
        numbers_now: set[str] = set()
        for order in batch:
            errors = list(order.errors)
            if not errors and not order.returns_only:
                if order.number in existing:
                    summary.already_imported += 1
                    continue
                if order.status == "open":
                    errors.append(RowError(order.first_line, f"order {order.number} is still open (status "
                                                             f"'{order.fields.get('status')}'); import open orders "
                                                             "without --history", order.number))
                elif order.created_at is None:
                    errors.append(RowError(order.first_line, "no order date", order.number))
                elif self._order_total(order) > MAX_MONEY:
                    errors.append(RowError(order.first_line, f"order total larger than {MAX_MONEY}", order.number))
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
        for order in returns:
            self._apply_return(order, created.get(order.number) or existing.get(order.number))

    def _existing(self, numbers: set[str]) -> dict[str, tuple[int, str, dict]]:
        if not numbers:
            return {}
        found = db.session.execute(
            select(Order.external_ref, Order.id, Order.status)
            .where(Order.channel == CHANNEL, Order.external_ref.in_(numbers)))
        return {ref: (order_id, status, {}) for ref, order_id, status in found}

    def _order_total(self, order: FileOrder) -> Decimal:
        return sum(((line.unit_price or Decimal(0)) * line.quantity for line in order.lines), Decimal(0))

    def _product_ids(self, orders: list[FileOrder]) -> None:
        wanted = {line.sku for order in orders for line in order.lines} - self.products.keys()
        if not wanted:
            return
        for sku, product_id, price in db.session.execute(
                select(Product.sku, Product.id, Product.unit_price).where(Product.sku.in_(wanted))):
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
        _insert(Product, [{"id": product_id, "sku": sku, "name": name, "unit_price": price, "on_hand": 0,
                           "reserved": 0, "reorder_point": 0, "lead_time_days": 7, "active": True,
                           "created_at": now, "updated_at": now}
                          for product_id, (sku, (name, price)) in zip(ids, unknown.items(), strict=True)])
        for product_id, (sku, (_, price)) in zip(ids, unknown.items(), strict=True):
            self.products[sku] = (product_id, price)
        self.summary.products_created += len(unknown)

    def _customer_ids(self, orders: list[FileOrder]) -> list[int]:
        """The customer of each order: matched on email, else on name, else the walk-in customer."""
        emails = {o.fields["customer_email"].lower() for o in orders if "@" in o.fields.get("customer_email", "")}
        emails -= self.customers_by_email.keys()
        if emails:
            for email, customer_id in db.session.execute(
                    select(Customer.email, Customer.id).where(Customer.email.in_(emails)).order_by(Customer.id.desc())):
                self.customers_by_email[email] = customer_id
        names = {self._name(o) for o in orders if "@" not in o.fields.get("customer_email", "") and self._name(o)}
        names -= self.customers_by_name.keys()
        if names:
            for name, customer_id in db.session.execute(
                    select(Customer.name, Customer.id).where(Customer.name.in_(names), Customer.email.is_(None))
                    .order_by(Customer.id.desc())):
                self.customers_by_name[name] = customer_id
        new_rows: dict[tuple[str, str], dict] = {}
        keys = []
        for order in orders:
            email = order.fields.get("customer_email", "").lower()
            name = self._name(order)
            if "@" in email:
                key = ("email", email[:254])
                known = self.customers_by_email.get(key[1])
            elif name:
                key = ("name", name)
                known = self.customers_by_name.get(name)
            else:
                key = ("walk-in", WALK_IN)
                known = self._walk_in()
            keys.append(key)
            if known is None and key not in new_rows:
                country = order.fields.get("country", "")
                new_rows[key] = {
                    "name": (name or key[1].split("@")[0])[:200], "email": key[1] if key[0] == "email" else None,
                    "city": order.fields.get("city", "")[:100] or None,
                    "country": country.upper() if len(country) == 2 and country.isalpha() else None,
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
            _insert(Customer, list(new_rows.values()))
            self.summary.customers_created += len(new_rows)
        return [self.customers_by_email[key[1]] if key[0] == "email" else self.customers_by_name[key[1]]
                for key in keys]

    @staticmethod
    def _name(order: FileOrder) -> str:
        name = order.fields.get("customer_name", "").strip()
        if not name and order.fields.get("customer_id"):
            name = f"Customer {order.fields['customer_id']}"
        return name[:200]

    def _walk_in(self) -> int | None:
        if WALK_IN not in self.customers_by_name:
            found = db.session.scalar(select(Customer.id).where(Customer.name == WALK_IN, Customer.email.is_(None))
                                      .order_by(Customer.id).limit(1))
            if found is not None:
                self.customers_by_name[WALK_IN] = found
        return self.customers_by_name.get(WALK_IN)

    def _insert_orders(self, orders: list[FileOrder]) -> dict[str, tuple[int, str, dict]]:
        settings = self.settings
        summary = self.summary
        self._product_ids(orders)
        customer_ids = self._customer_ids(orders)
        order_ids = new_ids(Order, len(orders))
        order_rows, line_rows, event_rows = [], [], []
        created: dict[str, tuple[int, str, dict]] = {}
        for order, order_id, customer_id in zip(orders, order_ids, customer_ids, strict=True):
            subtotal = Decimal("0.00")
            units: dict[str, int] = {}
            for line in order.lines:
                product_id, catalogue_price = self.products[line.sku]
                price = (line.unit_price if line.unit_price is not None else catalogue_price).quantize(CENT)
                line_total = (price * line.quantity).quantize(CENT)
                subtotal += line_total
                units[line.sku] = units.get(line.sku, 0) + line.quantity
                line_rows.append({"order_id": order_id, "product_id": product_id, "sku": line.sku,
                                  "name": line.name, "quantity": line.quantity, "unit_price": price,
                                  "line_total": line_total})
            tax = tax_on(subtotal, settings)
            total = subtotal + (Decimal("0.00") if settings.prices_include_tax else tax)
            status = order.status or "delivered"
            currency = order.fields.get("currency", "").upper()
            at = order.created_at
            country = order.fields.get("country", "")
            order_rows.append({
                "id": order_id, "number": order_number(order_id), "customer_id": customer_id, "channel": CHANNEL,
                "status": status, "payment_status": PAYMENT_FOR_STATUS[status], "priority": "standard",
                "currency": currency if len(currency) == 3 and currency.isalpha() else settings.currency,
                "subtotal": subtotal, "shipping": Decimal("0.00"), "tax": tax, "discount": Decimal("0.00"),
                "total": total, "ship_name": self._name(order) or None,
                "ship_city": order.fields.get("city", "")[:100] or None,
                "ship_country": country.upper() if len(country) == 2 and country.isalpha() else None,
                "external_ref": order.number[:100], "notes": "", "hold_reasons": [], "created_at": at,
                "updated_at": at,
            })
            source = f"Imported from {self.filename}, line {order.first_line}."
            event_rows.append({"order_id": order_id, "kind": "created", "from_status": None,
                               "to_status": "pending", "note": source, "actor": self.actor, "created_at": at})
            event_rows.append({"order_id": order_id, "kind": "status", "from_status": "pending",
                               "to_status": status, "note": "History import: status as in the file.",
                               "actor": self.actor, "created_at": at})
            created[order.number] = (order_id, status, units)
            summary.orders += 1
            summary.lines += len(order.lines)
            summary.total += total
            if len(summary.preview) < PREVIEW_ORDERS:
                summary.preview.append({
                    "number": order.number, "line": order.first_line, "date": at.isoformat(sep=" "),
                    "status": status, "customer": self._name(order) or order.fields.get("customer_email") or WALK_IN,
                    "lines": [{"sku": r["sku"], "quantity": r["quantity"], "unit_price": str(r["unit_price"])}
                              for r in line_rows if r["order_id"] == order_id],
                    "total": str(total),
                })
        _insert(Order, order_rows)
        _insert(OrderLine, line_rows)
        _insert(OrderEvent, event_rows)
        return created

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
        _insert(OrderEvent, [{"order_id": order_id, "kind": "status", "from_status": status, "to_status": "returned",
                              "note": f"Returned {items} (imported from {self.filename}, line {first}).",
                              "actor": self.actor, "created_at": at}])
        summary.returns += 1


class LiveImport:
    """Open orders taken as if they had just arrived: each goes through intake and the audit (take_order), so
    stock is reserved for confirmed ones and an unknown SKU holds its order. Emails to customers are not sent:
    the shop the file came from has told them already."""

    def __init__(self, summary: ImportSummary, filename: str, *, actor: str):
        self.summary = summary
        self.filename = filename
        self.actor = actor
        g.suppress_notifications = True

    def take(self, batch: list[FileOrder]) -> None:
        summary = self.summary
        numbers = {order.number for order in batch if order.number}
        existing = set(db.session.scalars(select(Order.external_ref).where(
            Order.channel == CHANNEL, Order.external_ref.in_(numbers)))) if numbers else set()
        for order in batch:
            if order.errors:
                summary.reject(order, order.errors)
                continue
            if order.number in existing:
                summary.already_imported += 1
                continue
            if order.returns:
                summary.reject(order, [RowError(order.returns[0].line, "a negative quantity (a return) is "
                                                "imported with --history, against its delivered order",
                                                order.number)])
                continue
            try:
                data = OrderIn.model_validate(self._order_body(order))
            except ValidationError as error:
                problem = error.errors()[0]
                where = ".".join(str(part) for part in problem["loc"])
                summary.reject(order, [RowError(order.first_line, f"{where}: {problem['msg']}", order.number)])
                continue
            try:
                with db.session.begin_nested():
                    taken = take_order(data, actor=self.actor)
            except OrderInputError as error:
                field, messages = next(iter(error.errors.items()))
                summary.reject(order, [RowError(order.first_line, f"{field}: {messages[0]}", order.number)])
                continue
            except IntegrityError:  # imported at the same moment by another run
                summary.already_imported += 1
                continue
            existing.add(order.number)
            summary.orders += 1
            summary.lines += len(order.lines)
            summary.total += taken.total
            summary.held += taken.status == "on_hold"
            if len(summary.preview) < PREVIEW_ORDERS:
                summary.preview.append({
                    "number": order.number, "line": order.first_line, "date": taken.created_at.isoformat(sep=" "),
                    "status": taken.status, "customer": taken.customer.name,
                    "lines": [{"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
                              for line in taken.lines],
                    "total": str(taken.total), "hold_reasons": list(taken.hold_reasons),
                })

    def _order_body(self, order: FileOrder) -> dict:
        fields = order.fields
        email = fields.get("customer_email", "").strip()
        country = fields.get("country", "")
        address = {"city": fields.get("city") or None,
                   "country": country if len(country) == 2 and country.isalpha() else None}
        return {
            "customer": {"name": HistoryImport._name(order) or WALK_IN, "email": email or None,
                         "address": address if any(address.values()) else None},
            "lines": [{"sku": line.sku, "quantity": line.quantity,
                       **({"unit_price": line.unit_price.quantize(CENT)} if line.unit_price is not None else {})}
                      for line in order.lines],
            "channel": CHANNEL, "external_ref": order.number[:100],
            "notes": f"Imported from {self.filename}, line {order.first_line}."[:5000],
        }
