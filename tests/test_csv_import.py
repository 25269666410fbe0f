"""Importing order files: formats, encodings, bad rows, history mode, dry runs and importing twice."""
import csv
import gc
import io
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rq.job import Job
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import order_body
from tests.factories import new_order
from tests.test_analytics_recomputed import stored_earlier_orders_are_right
from tests.test_emails import run_jobs
from tests.test_stock_ledger import assert_ledger_matches
from webapp.catalog.models import Product, StockMovement
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.imports import histories
from webapp.imports.formats import MappingError, parse_money, parse_quantity, resolve_columns
from webapp.imports.importing import HistoryImport, import_orders
from webapp.imports.models import ImportRun
from webapp.imports.reading import FileReadError
from webapp.orders.models import Order, OrderEvent, OrderLine
from worker import redis_connection

SAMPLES = Path("/work/shared/samples")
GENERIC_HEADER = ["Order Number", "Date", "Status", "SKU", "Product", "Qty", "Price", "Currency", "Email",
                  "Customer Name", "Country", "City"]


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding="utf-8", delimiter=",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generated_rows(orders: int, seed: int = 3) -> tuple[list[list], dict]:
    """Rows of ``orders`` orders (1-4 lines each) and the counts and total they should import as."""
    rng = random.Random(seed)
    rows, lines, total = [], 0, Decimal("0")
    for n in range(orders):
        customer = rng.randrange(300)
        for _ in range(rng.randint(1, 4)):
            quantity, price = rng.randint(1, 5), Decimal(rng.randint(100, 9999)) / 100
            rows.append([f"#{1000 + n}", f"2025-{1 + n % 12:02d}-{1 + n % 28:02d} 10:{n % 60:02d}:00", "completed",
                         f"SKU-{rng.randrange(40):03d}", "Thing", quantity, f"£{price:,.2f}", "GBP",
                         f"buyer{customer}@example.com", f"Buyer {customer}", "GB", "Leeds"])
            lines += 1
            total += price * quantity
    return rows, {"orders": orders, "lines": lines, "total": total}


def counts() -> tuple[int, int, int, int, int]:
    return tuple(db.session.scalar(select(func.count(model.id)))
                 for model in (Order, OrderLine, OrderEvent, Customer, Product))


def test_a_generated_file_imports_with_exact_counts_and_totals_and_twice_changes_nothing(app, runner, tmp_path):
    rows, expected = generated_rows(1200)
    path = write_csv(tmp_path / "orders.csv", GENERIC_HEADER, rows)
    result = runner.invoke(args=["orders", "import", str(path), "--format", "generic", "--history"])
    assert result.exit_code == 0, result.output
    assert f"Imported {expected['orders']} orders, {expected['lines']} lines, 0 skipped rows" in result.output
    assert db.session.scalar(select(func.count(Order.id))) == expected["orders"]
    assert db.session.scalar(select(func.count(OrderLine.id))) == expected["lines"]
    assert db.session.scalar(select(func.sum(Order.total))) == expected["total"]
    assert db.session.scalar(select(func.count(Customer.id))) == len({r[8] for r in rows})
    assert db.session.scalar(select(func.count(Product.id))) == len({r[3] for r in rows})
    first = db.session.scalars(select(Order).where(Order.external_ref == "#1000")).one()
    assert (first.channel, first.status, first.payment_status) == ("import", "delivered", "paid")
    assert first.created_at.date().isoformat() == "2025-01-01"
    assert [e.kind for e in first.events] == ["created", "status"]
    before = counts()

    again = runner.invoke(args=["orders", "import", str(path), "--format", "generic", "--history"])
    assert again.exit_code == 0, again.output
    assert f"Imported 0 orders, 0 lines, 0 skipped rows ({expected['lines']} rows read; " \
           f"{expected['orders']} orders already imported" in again.output
    assert counts() == before


def test_history_mode_leaves_stock_untouched_and_the_ledger_consistent(app, make_product, tmp_path):
    mug = make_product("MUG-BLU", stock=7)
    movements = db.session.scalar(select(func.count(StockMovement.id)))
    path = write_csv(tmp_path / "h.csv", GENERIC_HEADER, [
        ["A1", "2024-03-01", "delivered", "MUG-BLU", "Mug", 3, "14.00", "GBP", "a@example.com", "Ann", "GB", "Bath"],
        ["A2", "2024-03-02", "cancelled", "MUG-BLU", "Mug", 2, "14.00", "GBP", "", "", "", ""],
        ["A3", "2024-03-03", "", "NEW-SKU", "New thing", 1, "5", "GBP", "", "Bob", "", ""],
    ])
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.lines, summary.products_created) == (3, 3, 1)
    db.session.expire_all()
    assert (db.session.get(Product, mug.id).on_hand, db.session.get(Product, mug.id).reserved) == (7, 0)
    assert db.session.scalar(select(func.count(StockMovement.id))) == movements
    assert_ledger_matches()
    new = db.session.scalars(select(Product).where(Product.sku == "NEW-SKU")).one()
    assert (new.name, new.unit_price, new.on_hand) == ("New thing", Decimal("5.00"), 0)
    by_ref = {o.external_ref: o for o in db.session.scalars(select(Order))}
    assert by_ref["A2"].status == "cancelled" and by_ref["A3"].status == "delivered"
    assert by_ref["A2"].customer.name == "Walk-in customer" and by_ref["A3"].customer.name == "Bob"


def test_history_imports_store_each_orders_earlier_orders_as_a_recomputation_would(app, make_product, tmp_path,
                                                                                    monkeypatch):
    """Read ahead or filled after, every imported order carries its customer's earlier orders: a file out of time
    order with ties and a cancelled order, a line priced from the catalogue, a customer known before, an order number
    imported before under someone new, the walk-in customer, and an order taken meanwhile through the API."""
    make_product("MUG-BLU", price="12.00", stock=50)
    new_order("MUG-BLU", 1, name="Olga", email="olga@example.com")
    import_orders(write_csv(tmp_path / "first.csv", GENERIC_HEADER, [
        ["F1", "2024-02-01 10:00", "completed", "MUG-BLU", "Mug", 1, "12.00", "", "olga@example.com", "Olga", "", ""],
    ]), "generic", history=True)

    def row(number, when, email, name, price="4.00", status="completed"):
        return [number, when, status, "MUG-BLU", "Mug", 2, price, "GBP", email, name, "GB", "York"]
    ann = ("ann@example.com", "Ann")
    path = write_csv(tmp_path / "second.csv", GENERIC_HEADER, [
        row("A1", "2024-03-05 09:00", *ann), row("A2", "2024-01-05 09:00", *ann),  # batch 1 (3 orders a batch)
        row("A3", "2024-03-05 09:00", *ann, status="cancelled"),
        row("A4", "2024-02-01 12:00", *ann), row("A5", "2024-03-05 09:00", *ann),  # batch 2: a tie, in file order
        row("B1", "2024-04-01", "bea@example.com", "Bea", price=""),  # priced from the catalogue
        row("B2", "2024-01-01", "bea@example.com", "Bea"), row("C2", "2024-02-15", "cy@example.com", "Cy"),  # 3
        row("C3", "2024-01-10", "cy@example.com", "Cy"),
        row("F1", "2024-01-15", "cy@example.com", "Cy"),  # batch 4: imported before, so skipped, though read ahead
        row("O2", "2024-01-20", "olga@example.com", "Olga"), row("D1", "2024-05-01", "dan@example.com", "Dan"),
        row("D2", "2024-04-01", "dan@example.com", "Dan"), row("W1", "2024-03-01", "", ""),  # batch 5
        row("W2", "2024-02-01", "", ""),
    ])
    monkeypatch.setattr(HistoryImport, "batch_orders", 3)

    def dan_orders_meanwhile(rows_read):
        if rows_read == 12:  # after batch 4, which created Dan
            assert new_order("MUG-BLU", 1, name="Dan", email="dan@example.com").customer.name == "Dan"
    summary = import_orders(path, "generic", history=True, progress=dan_orders_meanwhile)
    assert (summary.orders, summary.already_imported, summary.error_count) == (14, 1, 0)
    assert db.session.scalar(select(func.count(Order.id)).where(Order.earlier_orders.is_(None))) == 0
    assert stored_earlier_orders_are_right() == 0
    a5 = db.session.scalars(select(Order).where(Order.external_ref == "A5")).one()
    assert (a5.earlier_orders, a5.earlier_total) == (3, Decimal("24.00"))  # A2, A4, A1; A3 was cancelled


def test_a_file_too_large_to_read_ahead_has_its_earlier_orders_filled_after(app, tmp_path, monkeypatch):
    monkeypatch.setattr(histories, "MAX_ORDERS", 10)  # the worker's memory bound, made small
    rows, expected = generated_rows(60)
    summary = import_orders(write_csv(tmp_path / "many.csv", GENERIC_HEADER, rows), "generic", history=True)
    assert summary.orders == expected["orders"]
    assert db.session.scalar(select(func.count(Order.id)).where(Order.earlier_orders.is_(None))) == 0
    assert stored_earlier_orders_are_right() == 0


def test_an_import_that_stops_keeps_no_figure_counting_an_order_it_did_not_store(app, make_product, tmp_path,
                                                                                monkeypatch):
    """The read ahead knows the whole file, the batches are committed one by one: orders whose earlier orders
    include one of a later batch are written counting it, and a stop before that batch fills them from what was
    stored."""
    make_product("MUG-BLU", price="12.00", stock=50)
    monkeypatch.setattr(HistoryImport, "batch_orders", 2)

    def row(number, when):
        return f"{number},{when},completed,MUG-BLU,Mug,1,4.00,GBP,ann@example.com,Ann,GB,York\n"

    path = tmp_path / "stops.csv"
    path.write_text(",".join(GENERIC_HEADER) + "\n" + row("A1", "2024-03-01") + row("A2", "2024-03-02")
                    + row("A3", "2024-01-01") + row("A4", "2024-05-01")
                    + 'A5,2024-01-02,completed,MUG-BLU,"Mug,1,4.00,GBP,x,Ann,GB,York\n'  # a stray quote: the end
                    + "".join(row(f"Z{n}", "2024-01-03") for n in range(4000)))  # one field past the limit
    with pytest.raises(FileReadError):
        import_orders(path, "generic", history=True)
    db.session.expire_all()
    kept = dict(db.session.execute(select(Order.external_ref, Order.earlier_orders)).all())
    assert kept == {"A1": 0, "A2": 1}  # not counting A3, which was in the batch that never came
    assert stored_earlier_orders_are_right() == 0

    in_time_order = tmp_path / "in_order.csv"  # the usual case keeps its figures written with the orders
    in_time_order.write_text(",".join(GENERIC_HEADER) + "\n" + "".join(
        row(f"B{n}", f"2024-06-{n:02d}").replace("ann@", "bea@") for n in range(1, 6)))
    import_orders(in_time_order, "generic", history=True)
    assert stored_earlier_orders_are_right() == 0
    assert [n for (n,) in db.session.execute(select(Order.earlier_orders).where(Order.external_ref.like("B%"))
                                             .order_by(Order.created_at))] == [0, 1, 2, 3, 4]


def newest_first_export(path: Path, prefix: str) -> Path:
    """24 orders of four customers, newest first as the platforms export them: with batches of three, each order's
    earlier orders are in later batches."""
    return write_csv(path, GENERIC_HEADER, [
        [f"{prefix}{n}", f"2024-05-{24 - n:02d} 10:00", "cancelled" if n % 7 == 3 else "completed", "MUG", "Mug", 1,
         f"{n + 1}.00", "GBP", f"{prefix}{n % 4}@example.com", f"{prefix} {n % 4}", "GB", "York"]
        for n in range(24)])


def stop_after(batches: int, stop: BaseException):
    def progress(rows_read):
        if rows_read == 3 * batches:
            raise stop
    return progress


def stored_with_figures(prefix: str) -> tuple[int, int]:
    db.session.expire_all()
    return tuple(db.session.execute(select(func.count(Order.id), func.count(Order.earlier_orders))
                                    .where(Order.external_ref.like(f"{prefix}%"))).one())


@pytest.mark.parametrize("stop", [RuntimeError("the database went away"), KeyboardInterrupt()])
def test_a_newest_first_export_stopped_part_way_leaves_no_figure_wrong(app, tmp_path, monkeypatch, stop):
    """Its orders are written counting orders of later batches; an error or Ctrl-C before those are stored leaves
    the figures worked out from what was, and importing the file again adds the rest, all figures right."""
    monkeypatch.setattr(HistoryImport, "batch_orders", 3)
    path = newest_first_export(tmp_path / "newest_first.csv", "N")
    with pytest.raises(type(stop)):
        import_orders(path, "generic", history=True, progress=stop_after(4, stop))
    assert stored_with_figures("N") == (12, 12)
    assert stored_earlier_orders_are_right() == 0
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.already_imported) == (12, 12)
    assert stored_with_figures("N") == (24, 24)
    assert stored_earlier_orders_are_right() == 0


@pytest.mark.parametrize("stop", [RuntimeError("the database went away"), KeyboardInterrupt()])
def test_a_stop_while_a_batch_writes_its_orders_keeps_none_of_that_batch(app, tmp_path, monkeypatch, stop):
    """A batch's orders go to the database while they are made (on PostgreSQL into a COPY left open meanwhile): a
    stop half-way through them stores none of them, the batches before are kept with their figures right."""
    monkeypatch.setattr(HistoryImport, "batch_orders", 3)
    path = newest_first_export(tmp_path / "newest_first.csv", "W")
    made = HistoryImport._earlier_orders

    def stopping_on_the_eighth(self, *args):
        if self.summary.orders == 7:  # two batches stored, the third's second order being made
            raise stop
        return made(self, *args)
    monkeypatch.setattr(HistoryImport, "_earlier_orders", stopping_on_the_eighth)
    with pytest.raises(type(stop)):
        import_orders(path, "generic", history=True)
    assert stored_with_figures("W") == (6, 6)
    assert db.session.scalar(select(func.count(OrderLine.id))) == 6
    assert db.session.scalar(select(func.count(OrderEvent.id))) == 12
    assert stored_earlier_orders_are_right() == 0
    monkeypatch.setattr(HistoryImport, "_earlier_orders", made)
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.already_imported) == (18, 6)
    assert stored_with_figures("W") == (24, 24)
    assert stored_earlier_orders_are_right() == 0


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept(app, runner, tmp_path):
    path = write_csv(tmp_path / "bad.csv", GENERIC_HEADER, [
        ["B1", "2024-01-01", "", "MUG", "Mug", 1, "10.00", "", "", "Cy", "", ""],  # line 2: good
        ["B2", "2024-01-01", "", "MUG", "Mug", "two", "10.00", "", "", "Cy", "", ""],  # line 3: bad quantity
        ["B2", "2024-01-01", "", "JUG", "Jug", 1, "10.00", "", "", "Cy", "", ""],  # line 4: skipped with B2
        ["B3", "not a date", "", "MUG", "Mug", 1, "10.00", "", "", "Cy", "", ""],  # line 5: bad date
        ["B4", "2024-01-02", "", "", "Mug", 1, "10.00", "", "", "Cy", "", ""],  # line 6: no SKU
        ["B5", "2024-01-02", "", "MUG", "Mug", 1, "ten", "", "", "Cy", "", ""],  # line 7: bad price
        ["B6", "2024-01-02", "", "MUG", "Mug", -1, "10.00", "", "", "Cy", "", ""],  # line 8: return, no original
        ["B7", "2024-01-02", "processing", "MUG", "Mug", 1, "10.00", "", "", "Cy", "", ""],  # line 9: open
        ["B8", "2024-01-03", "", "MUG", "Mug", 2, "1.234,50", "", "", "Cy", "", ""],  # line 10: good
    ])
    errors_csv = tmp_path / "errors.csv"
    result = runner.invoke(args=["orders", "import", str(path), "--history", "--errors", str(errors_csv)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 orders, 2 lines, 7 skipped rows" in result.output
    with open(errors_csv, newline="") as errors:
        reported = {int(row["line"]): row["reason"] for row in csv.DictReader(errors)}
    assert sorted(reported) == [3, 4, 5, 6, 7, 8, 9]
    assert "quantity 'two'" in reported[3] and "skipped with order B2" in reported[4]
    assert "not a date" in reported[5] and reported[6] == "no SKU" and "'ten' is not a price" in reported[7]
    assert "not found" in reported[8] and "still open" in reported[9]
    assert "line 3: quantity 'two' is not a whole number" in result.output
    totals = dict(db.session.execute(select(Order.external_ref, Order.total)).all())
    assert totals == {"B1": Decimal("10.00"), "B8": Decimal("2469.00")}
    run = db.session.scalars(select(ImportRun)).one()
    assert (run.filename, run.summary["orders"], run.summary["skipped_rows"]) == ("bad.csv", 2, 7)
    assert run.errors[0] == [3, "B2", "quantity 'two' is not a whole number"]


def test_returns_go_against_their_original_order(app, tmp_path):
    path = write_csv(tmp_path / "r.csv", GENERIC_HEADER, [
        ["R1", "2024-01-01", "", "MUG", "Mug", 2, "10", "", "", "Cy", "", ""],
        ["R2", "2024-01-01", "", "MUG", "Mug", 1, "10", "", "", "Cy", "", ""],
        ["R1", "2024-01-09", "", "MUG", "Mug", -1, "10", "", "", "Cy", "", ""],
    ])
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.returns, summary.error_count) == (2, 1, 0)
    r1 = db.session.scalars(select(Order).where(Order.external_ref == "R1")).one()
    assert (r1.status, r1.payment_status) == ("returned", "partially_refunded")
    assert "Returned 1 × MUG" in r1.events[-1].note
    again = import_orders(path, "generic", history=True)
    assert (again.orders, again.returns, again.already_imported) == (0, 0, 3)
    assert_ledger_matches()


def test_dry_run_writes_nothing_and_previews_the_first_orders(app, runner, tmp_path):
    rows, expected = generated_rows(50)
    rows.append(["#X", "2024-01-01", "", "MUG", "Mug", "1.5", "1", "", "", "", "", ""])
    path = write_csv(tmp_path / "dry.csv", GENERIC_HEADER, rows)
    before = counts()
    result = runner.invoke(args=["orders", "import", str(path), "--history", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert counts() == before and db.session.scalar(select(func.count(ImportRun.id))) == 0
    assert "Dry run, nothing written" in result.output and "#1000 (line 2)" in result.output
    assert f"Would import {expected['orders']} orders, {expected['lines']} lines, 1 skipped rows" in result.output
    assert f"line {len(rows) + 1}: quantity '1.5' is not a whole number" in result.output


@pytest.mark.parametrize(("encoding", "delimiter"), [("latin-1", ";"), ("utf-8-sig", ","), ("utf-8", "\t")])
def test_encodings_and_delimiters_are_detected(app, tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "e.csv", GENERIC_HEADER, [
        ["E1", "05/02/2024", "", "CAFÉ-1", "Café crème", 1, "3,50 EUR", "EUR", "", "Zoë Müller", "DE", "Köln"],
        ["E1", "05/02/2024", "", "MUG", "Mug", 2, "1.000,00", "EUR", "", "", "", ""],
    ], encoding=encoding, delimiter=delimiter)
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.lines, summary.error_count) == (1, 2, 0), summary.errors
    order = db.session.scalars(select(Order)).one()
    assert order.customer.name == "Zoë Müller" and order.customer.city == "Köln"
    assert order.currency == "EUR" and order.total == Decimal("2003.50")
    assert {line.name for line in order.lines} == {"Café crème", "Mug"}
    assert order.created_at.date().isoformat() in ("2024-02-04", "2024-02-05")


def test_the_shopify_export_header_maps(app, tmp_path):
    with open(SAMPLES / "shopify_orders_export_header.csv", encoding="utf-8-sig") as sample:
        header = next(csv.reader(sample))
    columns = resolve_columns(header, "shopify")
    for field in ("number", "date", "status", "sku", "name", "quantity", "unit_price", "currency",
                  "customer_email", "customer_name", "country", "city"):
        assert field in columns
    first = dict.fromkeys(header, "")
    first.update({"Name": "#1001", "Email": "bob@example.com", "Fulfillment Status": "fulfilled", "Currency": "USD",
                  "Created at": "2024-05-01 09:30:00 -0400", "Lineitem quantity": "2", "Lineitem name": "Mug",
                  "Lineitem price": "12.00", "Lineitem sku": "MUG", "Billing Name": "Bob Norman",
                  "Shipping City": "Ottawa", "Shipping Country": "CA"})
    later = dict.fromkeys(header, "")  # Shopify leaves order-level columns blank on an order's later rows
    later.update({"Name": "#1001", "Lineitem quantity": "1", "Lineitem name": "Jug", "Lineitem price": "30.00",
                  "Lineitem sku": "JUG"})
    cancelled = dict(first, **{"Name": "#1002", "Cancelled at": "2024-05-02 10:00:00 -0400"})
    path = write_csv(tmp_path / "shopify.csv", header, [[row[h] for h in header] for row in (first, later, cancelled)])
    summary = import_orders(path, "shopify", history=True)
    assert (summary.orders, summary.lines, summary.error_count) == (2, 3, 0), summary.errors
    order = db.session.scalars(select(Order).where(Order.external_ref == "#1001")).one()
    assert (order.status, order.currency, order.total) == ("delivered", "USD", Decimal("54.00"))
    assert (order.customer.email, order.customer.name, order.ship_country) == ("bob@example.com", "Bob Norman", "CA")
    assert order.created_at.isoformat() == "2024-05-01T13:30:00"
    assert db.session.scalars(select(Order).where(Order.external_ref == "#1002")).one().status == "cancelled"


def _shopify_rows(header: list[str], **charges) -> list[list[str]]:
    first = dict.fromkeys(header, "")
    first.update({"Name": "#2001", "Email": "ann@example.com", "Fulfillment Status": "fulfilled", "Currency": "GBP",
                  "Created at": "2024-05-01 09:30:00 +0100", "Lineitem quantity": "2", "Lineitem name": "Mug",
                  "Lineitem price": "12.00", "Lineitem sku": "MUG", "Billing Name": "Ann Lee",
                  "Shipping Country": "GB", "Subtotal": "54.00", **charges})
    later = dict.fromkeys(header, "")
    later.update({"Name": "#2001", "Lineitem quantity": "1", "Lineitem name": "Jug", "Lineitem price": "30.00",
                  "Lineitem sku": "JUG"})
    return [[row[h] for h in header] for row in (first, later)]


@pytest.mark.parametrize("history", [True, False], ids=["history", "live"])
def test_a_shopify_export_keeps_what_was_charged_shipping_tax_discount_and_total(app, make_product, tmp_path,
                                                                                 history):
    make_product("MUG", price="12.00", stock=50)
    make_product("JUG", price="30.00", stock=50)
    with open(SAMPLES / "shopify_orders_export_header.csv", encoding="utf-8-sig") as sample:
        header = next(csv.reader(sample))
    rows = _shopify_rows(header, Shipping="4.95", Taxes="9.00", **{"Discount Amount": "5.40", "Total": "53.55"})
    summary = import_orders(write_csv(tmp_path / "charged.csv", header, rows), "shopify", history=history)
    assert (summary.orders, summary.error_count) == (1, 0), summary.errors
    order = db.session.scalars(select(Order).where(Order.external_ref == "#2001")).one()
    assert (order.subtotal, order.shipping, order.tax, order.discount, order.total) == (
        Decimal("54.00"), Decimal("4.95"), Decimal("9.00"), Decimal("5.40"), Decimal("53.55"))


def test_an_unreadable_charge_is_reported_on_its_line_and_the_order_left_out(app, tmp_path):
    with open(SAMPLES / "shopify_orders_export_header.csv", encoding="utf-8-sig") as sample:
        header = next(csv.reader(sample))
    rows = _shopify_rows(header, Taxes="nine pounds", Total="-3.00")
    summary = import_orders(write_csv(tmp_path / "bad-charge.csv", header, rows), "shopify", history=True)
    assert summary.orders == 0
    reasons = " ".join(error.reason for error in summary.errors)
    assert "tax" in reasons and "total '-3.00'" in reasons, reasons
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_map_options_name_columns_and_missing_ones_are_refused(app, runner, tmp_path):
    path = write_csv(tmp_path / "odd.csv", ["Ref", "When", "Item code", "Units", "Each"],
                     [["Z1", "2024-01-01", "MUG", "3", "2.50"]])
    refused = runner.invoke(args=["orders", "import", str(path), "--history"])
    assert refused.exit_code != 0 and "no column for number, sku, quantity" in refused.output
    result = runner.invoke(args=["orders", "import", str(path), "--history", "--map", "number=Ref",
                                 "--map", "date=When", "--map", "sku=Item code", "--map", "quantity=Units",
                                 "--map", "unit_price=Each", "--save-mapping", "odd shop"])
    assert result.exit_code == 0 and "Imported 1 orders, 1 lines" in result.output, result.output
    path2 = write_csv(tmp_path / "odd2.csv", ["Ref", "When", "Item code", "Units", "Each"],
                      [["Z2", "2024-01-02", "MUG", "1", "2.50"]])
    again = runner.invoke(args=["orders", "import", str(path2), "--history", "--mapping", "odd shop"])
    assert again.exit_code == 0 and "Imported 1 orders, 1 lines" in again.output, again.output


@pytest.mark.parametrize(("text", "value"), [("£1,234.50", "1234.50"), ("1.234,50 €", "1234.50"), ("12,5", "12.5"),
                                             ("USD 9.99", "9.99"), ("1,000", "1000"), ("3", "3"), ("12.50", "12.50"),
                                             ("12.", "12"), (".5", "0.5"), ("1.234.567", "1234567"),
                                             ("(4.00)", "-4.00"), (" 7.25 ", "7.25")])
def test_prices_with_symbols_and_separators_parse(text, value):
    assert str(parse_money(text)) == str(Decimal(value))


@pytest.mark.parametrize("text", ["ten", "", "£", "-", "NaN"])
def test_a_price_that_is_no_number_is_refused_by_name(text):
    with pytest.raises(ValueError, match="is not a price"):
        parse_money(text)


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("007", 7), ("2.0", 2), (" 4 ", 4), ("-1", -1), ("1 000", 1000)])
def test_quantities_read_as_whole_numbers(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["2.5", "two", "", "²", "1e400000x"])
def test_a_quantity_that_is_not_whole_is_refused_by_name(text):
    with pytest.raises(ValueError, match="is not a whole number"):
        parse_quantity(text)


def test_a_quantity_too_large_for_an_order_line_is_reported_not_a_crash(app, tmp_path):
    path = write_csv(tmp_path / "big.csv", GENERIC_HEADER, [
        ["L1", "2024-01-01", "delivered", "MUG", "Mug", "3000000000", "0", "", "", "Al", "", ""],
        ["L2", "2024-01-01", "delivered", "MUG", "Mug", "1e400000", "", "", "", "Al", "", ""],
        ["L3", "2024-01-01", "delivered", "MUG", "Mug", "100000", "0.01", "", "", "Al", "", ""],
    ])
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.skipped_rows) == (1, 2)
    assert [(e.line, e.reason) for e in summary.errors] == [(2, "quantity '3000000000' is more than 100,000"),
                                                            (3, "quantity '1e400000' is more than 100,000")]


def test_names_with_tabs_quotes_backslashes_and_line_breaks_are_stored_exactly(app, tmp_path):
    """History imports write rows in bulk (COPY on PostgreSQL): the text must arrive as it was in the file."""
    odd = 'Mug\twith "quotes", a \\N back\\slash\nand a line break'
    path = write_csv(tmp_path / "odd.csv", GENERIC_HEADER, [
        ["Q1", "2024-05-01", "delivered", "ODD-1", odd, 2, "3.10", "GBP", "", "Zoë O'Brien\t\\", "GB", "C:\\Leeds"],
    ])
    summary = import_orders(path, "generic", history=True)
    assert (summary.orders, summary.lines, summary.skipped_rows) == (1, 1, 0)
    db.session.expire_all()
    order = db.session.scalars(select(Order).where(Order.external_ref == "Q1")).one()
    assert order.lines[0].name == odd and order.lines[0].unit_price == Decimal("3.10")
    assert db.session.scalars(select(Product).where(Product.sku == "ODD-1")).one().name == odd
    assert order.customer.name == "Zoë O'Brien\t\\" and order.ship_city == "C:\\Leeds"
    assert (order.total, order.hold_reasons) == (Decimal("6.20"), [])


def sqlite_cache_size() -> tuple | None:
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return None
    return (connection.exec_driver_sql("PRAGMA cache_size").scalar(),
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())


def test_an_import_leaves_the_garbage_collector_and_the_sqlite_cache_as_it_found_them(app, tmp_path):
    before, cache_before = gc.get_threshold(), sqlite_cache_size()
    db.session.commit()
    rows, _ = generated_rows(3)
    import_orders(write_csv(tmp_path / "ok.csv", GENERIC_HEADER, rows), "generic", history=True)
    assert (gc.get_threshold(), sqlite_cache_size()) == (before, cache_before)  # its cache and checkpoints too
    db.session.commit()
    with pytest.raises(MappingError):
        import_orders(write_csv(tmp_path / "no-sku.csv", ["Order Number", "Qty"], [["X1", "1"]]), "generic",
                      history=True)
    assert gc.get_threshold() == before


def test_live_mode_goes_through_the_audit_and_holds_unknown_skus(app, runner, make_product, tmp_path):
    make_product("MUG-BLU", price="14.00", stock=5)
    path = write_csv(tmp_path / "live.csv", GENERIC_HEADER, [
        ["L1", "", "", "MUG-BLU", "Mug", 2, "14.00", "", "ann@example.com", "Ann", "GB", "Bath"],
        ["L2", "", "", "NOPE-1", "Mystery", 1, "3.00", "", "", "Bob", "", ""],
        ["L3", "", "", "MUG-BLU", "Mug", -1, "14.00", "", "", "Cy", "", ""],
        ["L4", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "not an email", "Di", "", ""],
    ])
    result = runner.invoke(args=["orders", "import", str(path), "--format", "generic"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 orders, 2 lines, 2 skipped rows" in result.output
    assert "line 4: a negative quantity (a return) is imported with --history" in result.output
    assert "line 5: customer.email" in result.output
    orders = {o.external_ref: o for o in db.session.scalars(select(Order))}
    assert orders["L1"].channel == "import" and orders["L1"].events[0].kind == "created"
    held = sum(o.status == "on_hold" for o in orders.values())
    assert f"{held} held for review" in result.output
    assert orders["L2"].status == "on_hold" and "Unknown SKU NOPE-1" in orders["L2"].hold_reasons[0]
    mug = db.session.scalars(select(Product).where(Product.sku == "MUG-BLU")).one()
    assert mug.reserved == (2 if orders["L1"].status == "confirmed" else 0)
    assert_ledger_matches()
    before = counts()
    again = runner.invoke(args=["orders", "import", str(path), "--format", "generic"])
    assert "Imported 0 orders" in again.output and "2 orders already imported" in again.output
    assert counts() == before


HTMX = {"HX-Request": "true"}


def upload(client, path: Path, **form):
    data = {"format": "generic", "history": "1", **form}
    with open(path, "rb") as handle:
        data["file"] = (io.BytesIO(handle.read()), path.name)
    return client.post("/imports", data=data, content_type="multipart/form-data")


def test_the_import_page_runs_a_dry_run_on_the_worker_with_progress_preview_and_error_report(app, client, auth,
                                                                                             tmp_path):
    redis_connection().flushdb()
    auth.login()
    assert "Import orders" in client.get("/imports").get_data(as_text=True)
    rows, expected = generated_rows(30)
    rows.append(["#X", "2024-01-01", "", "MUG", "Mug", "lots", "1", "", "", "", "", ""])
    path = write_csv(tmp_path / "web.csv", GENERIC_HEADER, rows)
    response = upload(client, path, dry_run="1")
    assert response.status_code == 303 and response.headers["Location"] == "/imports/1"
    waiting = client.get("/imports/1", headers=HTMX).get_data(as_text=True)
    assert f"0 of about {len(rows)} rows" in waiting and 'hx-trigger="load delay:1s"' in waiting
    run_jobs()
    assert Job.fetch("import-run-1", connection=redis_connection()).meta == {"done": len(rows)}
    done = client.get("/imports/1", headers=HTMX).get_data(as_text=True)
    assert "hx-trigger" not in done
    assert f"Would import {expected['orders']} orders, {expected['lines']} lines;\n      1 skipped rows" in done
    assert "#1000" in done and f"line {len(rows) + 1}: quantity &#39;lots&#39;" in done
    report = client.get("/imports/1/errors.csv").get_data(as_text=True).splitlines()
    assert report == ["line,order,reason", f"{len(rows) + 1},#X,quantity 'lots' is not a whole number"]
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_the_import_page_saves_a_mapping_preset_and_imports_for_real(app, client, auth, tmp_path):
    redis_connection().flushdb()
    auth.login()
    path = write_csv(tmp_path / "odd.csv", ["Ref", "When", "Item code", "Units"], [["Z1", "2024-01-01", "MUG", "3"]])
    upload(client, path, map_number="Ref", map_date="When", map_sku="Item code", map_quantity="Units",
           save_as="Odd shop")
    run_jobs()
    assert db.session.scalars(select(Order)).one().external_ref == "Z1"
    assert "Imported 1 orders, 1 lines" in client.get("/imports/1").get_data(as_text=True)
    form = client.get("/imports?preset=Odd+shop", headers=HTMX).get_data(as_text=True)
    assert 'value="Item code"' in form and "Odd shop" in form
    refused = client.post("/imports", data={"format": "generic"}, follow_redirects=True)
    assert "Choose a CSV file to import." in refused.get_data(as_text=True)


def test_only_imports_are_unique_by_reference_the_api_may_repeat_one(app, api, make_product, tmp_path):
    make_product("MUG-BLU", stock=10)
    for key in ("k1", "k2"):
        assert api.post("/orders", order_body(external_ref="PO-7"), key=key).status_code == 201
    path = write_csv(tmp_path / "po.csv", GENERIC_HEADER,
                     [["PO-7", "2024-01-01", "", "MUG-BLU", "Mug", 1, "14", "", "", "", "", ""]])
    assert import_orders(path, "generic", history=True).orders == 1
    assert import_orders(path, "generic", history=True).already_imported == 1
    assert db.session.scalar(select(func.count(Order.id)).where(Order.external_ref == "PO-7")) == 3


def stray_quote_file(path: Path) -> Path:
    """Line 3 opens a quoted cell that never closes: csv reads on until its field limit (128 KiB) and gives up."""
    rows = [["S1", "2024-01-01", "delivered", "MUG", "Mug", "1", "10.00", "", "", "Ann", "", ""]]
    rows += [[f"S{n}", "2024-01-02", "delivered", "MUG", "Mug", "1", "10.00", "", "", "Bo", "", ""]
             for n in range(2, 4000)]
    path = write_csv(path, GENERIC_HEADER, rows)
    text = path.read_text().splitlines(keepends=True)
    text[2] = text[2].replace(",Mug,", ',"Mug 12in,', 1)
    path.write_text("".join(text))
    return path


def test_a_file_that_stops_being_csv_is_reported_with_its_line_not_a_crash(app, runner, tmp_path):
    path = stray_quote_file(tmp_path / "quote.csv")
    result = runner.invoke(args=["orders", "import", str(path), "--history"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "line 3: the file cannot be read as CSV from this line on (field larger than field limit" in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(select(func.count(Order.id))) == 0
    run = db.session.scalars(select(ImportRun)).one()  # on record as a page's run would be
    assert (run.state, run.actor, run.finished_at is not None) == ("failed", "cli", True)
    assert run.summary["message"].startswith("line 3: the file cannot be read as CSV")


def test_a_web_import_of_an_unreadable_file_ends_failed_and_removes_the_upload(app, client, auth, tmp_path):
    redis_connection().flushdb()
    auth.login()
    upload(client, stray_quote_file(tmp_path / "quote.csv"))
    run = db.session.get(ImportRun, 1)
    kept_file = Path(run.path)
    assert kept_file.exists()
    run_jobs()
    db.session.expire_all()
    run = db.session.get(ImportRun, 1)
    assert (run.state, run.finished_at is not None, kept_file.exists()) == ("failed", True, False), run.summary
    page = client.get("/imports/1", headers=HTMX).get_data(as_text=True)
    assert "hx-trigger" not in page and "Reading the file" not in page
    assert "line 3: the file cannot be read as CSV" in page


def test_a_web_import_that_fails_unexpectedly_ends_failed_with_the_reason(app, client, auth, tmp_path):
    redis_connection().flushdb()
    auth.login()
    rows, _ = generated_rows(3)
    upload(client, write_csv(tmp_path / "gone.csv", GENERIC_HEADER, rows))
    Path(db.session.get(ImportRun, 1).path).unlink()  # the instance folder was cleaned before the worker ran
    run_jobs()
    db.session.expire_all()
    run = db.session.get(ImportRun, 1)
    assert run.state == "failed" and run.finished_at is not None
    assert run.summary["message"].startswith("The import stopped on an unexpected error (FileNotFoundError")
    assert "unexpected error" in client.get("/imports/1").get_data(as_text=True)


def test_a_nul_character_in_a_cell_skips_its_row_by_name_and_keeps_the_rest(app, runner, tmp_path):
    path = write_csv(tmp_path / "nul.csv", GENERIC_HEADER, [
        ["N1", "2024-01-01", "delivered", "MUG", "Mug", 1, "10.00", "", "", "Ann", "", ""],
        ["N2", "2024-01-01", "delivered", "MUG", "Mu\x00g", 1, "10.00", "", "", "Bo", "", ""],
        ["N3", "2024-01-01", "", "MUG", "Mug", 1, "10.00", "", "", "C\x00y", "", ""],
    ])
    for history in (False, True):  # a live dry run, then a history import for real
        summary = import_orders(path, "generic", history=history, dry_run=not history)
        assert (summary.orders, summary.skipped_rows) == (1, 2), summary.errors
        assert [(e.line, e.reason) for e in summary.errors] == [
            (3, "name (column 5) contains a NUL character"),
            (4, "customer_name (column 10) contains a NUL character")]
    assert db.session.scalars(select(Order.external_ref)).all() == ["N1"]


FORMULA = '=HYPERLINK("http://evil.example","Click")'


def test_the_skipped_rows_report_never_hands_a_spreadsheet_a_formula(app, runner, client, auth, tmp_path):
    path = write_csv(tmp_path / "formula.csv", GENERIC_HEADER, [
        [FORMULA, "2024-01-01", "", "MUG", "Mug", "two", "10.00", "", "", "Cy", "", ""],
        ["+1", "2024-01-01", "", "@SUM(A1)", "Mug", "-", "10.00", "", "", "Cy", "", ""],
    ])
    errors_csv = tmp_path / "errors.csv"
    assert runner.invoke(args=["orders", "import", str(path), "--history", "--errors", str(errors_csv)]).exit_code == 0
    redis_connection().flushdb()
    auth.login()
    upload(client, path, dry_run="1")
    run_jobs()
    web_report = client.get("/imports/2/errors.csv").get_data(as_text=True)
    for report in (errors_csv.read_text(encoding="utf-8"), web_report):
        rows = list(csv.reader(io.StringIO(report)))
        assert rows[1][1] == "'" + FORMULA and rows[2][1] == "'+1", rows
        assert not any(cell[:1] in "=+-@" for row in rows for cell in row if cell)


def test_live_mode_finds_customers_as_history_mode_does_and_counts_the_new_ones(app, runner, make_product, tmp_path):
    make_product("MUG-BLU", price="14.00", stock=50)
    db.session.add(Customer(name="Ann Lee", email="ann@example.com"))
    db.session.commit()
    path = write_csv(tmp_path / "live.csv", GENERIC_HEADER, [
        ["W1", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "", "", "", ""],
        ["W2", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "", "", "", ""],
        ["W3", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "", "Bob Stone", "", ""],
        ["W4", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "", "Bob Stone", "", ""],
        ["W5", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "ANN@example.com", "Ann", "", ""],
    ])
    result = runner.invoke(args=["orders", "import", str(path), "--format", "generic"])
    assert result.exit_code == 0, result.output
    assert "Imported 5 orders" in result.output and "2 new customers" in result.output
    names = sorted(db.session.scalars(select(Customer.name)))
    assert names == ["Ann Lee", "Bob Stone", "Walk-in customer"]
    orders = {o.external_ref: o.customer.name for o in db.session.scalars(select(Order))}
    assert orders == {"W1": "Walk-in customer", "W2": "Walk-in customer", "W3": "Bob Stone", "W4": "Bob Stone",
                      "W5": "Ann Lee"}
    more = write_csv(tmp_path / "more.csv", GENERIC_HEADER,
                     [["W6", "", "", "MUG-BLU", "Mug", 1, "14.00", "", "", "Bob Stone", "", ""]])
    again = runner.invoke(args=["orders", "import", str(more), "--format", "generic"])
    assert "Imported 1 orders" in again.output and "0 new customers" in again.output
    assert db.session.scalar(select(func.count(Customer.id))) == 3


@pytest.mark.parametrize("history", [True, False], ids=["history", "live"])
def test_an_export_overlapping_orders_received_by_webhook_does_not_take_them_again(app, client, runner, make_product,
                                                                                     tmp_path, history):
    from tests.test_webhooks_in import SHOPIFY_SECRET, WOO_SECRET, deliver, shopify_sample, woo_sample
    from webapp.settings.models import current_settings

    settings = current_settings()
    settings.shopify_webhook_secret, settings.woocommerce_webhook_secret = SHOPIFY_SECRET, WOO_SECRET
    db.session.commit()
    for colour in ("GREEN", "RED", "BLACK"):
        make_product(f"IPOD2008{colour}", price="199.00", stock=5)
    assert deliver(client, "shopify", shopify_sample()).status_code == 201  # order #1001
    assert deliver(client, "woocommerce", woo_sample()).status_code == 201  # order 727
    with open(SAMPLES / "shopify_orders_export_header.csv", encoding="utf-8-sig") as sample:
        header = next(csv.reader(sample))
    rows = []
    for number in ("#1001", "#1002"):
        row = dict.fromkeys(header, "")
        row.update({"Name": number, "Email": "bob@example.com", "Fulfillment Status": "fulfilled",
                    "Created at": "2024-05-01 09:30:00 -0400", "Lineitem quantity": "1",
                    "Lineitem sku": "IPOD2008GREEN", "Lineitem price": "199.00", "Billing Name": "Bob Norman"})
        rows.append([row[h] for h in header])
    shopify = write_csv(tmp_path / "shopify.csv", header, rows)
    woo = write_csv(tmp_path / "woo.csv", ["Order Number", "Order Date", "Order Status", "SKU", "Quantity",
                                            "Item Cost", "Billing Email Address"],
                    [["727", "2024-05-01", "completed", "IPOD2008RED", "1", "199.00", "bob@example.com"]])
    mode = ["--history"] if history else []
    shopify_result = runner.invoke(args=["orders", "import", str(shopify), "--format", "shopify", *mode])
    assert "Imported 1 orders" in shopify_result.output, shopify_result.output
    assert "1 orders already imported (1 of them received by webhook)" in shopify_result.output
    woo_result = runner.invoke(args=["orders", "import", str(woo), "--format", "woocommerce", *mode])
    assert "Imported 0 orders" in woo_result.output, woo_result.output
    assert "1 orders already imported (1 of them received by webhook)" in woo_result.output
    by_channel = db.session.execute(select(Order.channel, Order.external_ref).order_by(Order.id)).all()
    assert by_channel == [("shopify", "#1001"), ("woocommerce", "727"), ("import", "#1002")]
    generic = runner.invoke(args=["orders", "import", str(shopify), "--format", "generic", *mode,
                                  "--map", "number=Name", "--map", "sku=Lineitem sku",
                                  "--map", "quantity=Lineitem quantity"])
    assert "Imported 1 orders" in generic.output  # a generic file says nothing of a platform: #1001 is new to it


def upload_in_memory(client, path: Path, **form):
    """upload(), with the body encoded here: the test client spools a large one to a file it never closes."""
    values = {"format": "generic", "history": "1", **form,
              "file": FileStorage(io.BytesIO(path.read_bytes()), filename=path.name)}
    boundary, body = encode_multipart(values)
    return client.post("/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_realistic_export_larger_than_the_request_limit_uploads(app, client, auth, tmp_path):
    redis_connection().flushdb()
    auth.login()
    rows, expected = generated_rows(16_000)
    path = write_csv(tmp_path / "year.csv", GENERIC_HEADER, rows)
    assert path.stat().st_size > app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    response = upload_in_memory(client, path, dry_run="1")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    run = db.session.get(ImportRun, 1)
    assert run.summary["total_rows"] == expected["lines"] and Path(run.path).stat().st_size == path.stat().st_size
    too_large = client.post("/orders/new/lines", data={"notes": "x" * (3 * 1024 * 1024)})
    assert too_large.status_code == 413  # every other form keeps the 2 MB limit


@pytest.mark.app_config(IMPORT_MAX_BYTES=100_000)
def test_a_file_over_the_import_limit_is_refused_with_the_limit_named(app, client, auth, tmp_path):
    auth.login()
    rows, _ = generated_rows(1000)
    response = upload_in_memory(client, write_csv(tmp_path / "big.csv", GENERIC_HEADER, rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "The file is larger than 98 KB, the most an import takes" in page
    assert "the most an import takes" in page and "IMPORT_MAX_BYTES" in page and 'id="import-form"' in page
    assert db.session.scalar(select(func.count(ImportRun.id))) == 0


def import_in_a_terminal(database_url: str, redis_url: str, *args: str) -> str:
    """`flask orders import` run as the owner runs it, its output a terminal (click draws a bar only there)."""
    import os
    import pty
    import subprocess
    import sys

    main, terminal = pty.openpty()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "t", "COLUMNS": "100"}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "orders", "import", *args],
                               stdin=terminal, stdout=terminal, stderr=terminal, env=env,
                               cwd=Path(__file__).resolve().parent.parent)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0, output.decode()
    return output.decode()


def test_the_command_line_import_shows_a_progress_bar_unless_quiet(app, database_url, redis_server, tmp_path):
    rows, expected = generated_rows(300)
    path = write_csv(tmp_path / "bar.csv", GENERIC_HEADER, rows)
    shown = import_in_a_terminal(database_url, redis_server["url"], str(path), "--history", "--dry-run")
    assert re.search(rf"Importing rows  \[#+\]  {expected['lines']}/{expected['lines']}", shown), shown
    assert f"Would import {expected['orders']} orders" in shown
    quiet = import_in_a_terminal(database_url, redis_server["url"], str(path), "--history", "--dry-run", "--quiet")
    assert "Importing rows" not in quiet and f"Would import {expected['orders']} orders" in quiet
