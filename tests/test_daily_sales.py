"""The dashboard's daily rollups (webapp.analytics.daily_sales): the triggers note the shop day of every write, by
the ORM, in bulk or in plain SQL; the worker's job stores the noted days; and the figures equal the ones worked out
from every order after API orders, transitions, edits, history and live imports and deletes, stored or not."""
from datetime import date, datetime, timedelta
from decimal import Decimal

from rq import Queue, SimpleWorker
from sqlalchemy import delete, func, insert, select, text, update

from tests.factories import new_order
from tests.test_analytics_recomputed import check
from tests.test_csv_import import GENERIC_HEADER, write_csv
from webapp.analytics import kpis
from webapp.analytics.models import DailySales, SalesDayChanged
from webapp.bulk import new_ids
from webapp.extensions import db
from webapp.imports.importing import import_orders
from webapp.orders.models import Order, OrderLine
from webapp.timekeeping import shop_today
from worker import QUEUE_DEFAULT, redis_connection
from worker.jobs.dashboard import store_changed_sales_days

TRIGGERS = {"sales_day_of_new_order", "sales_day_of_changed_order", "sales_day_of_removed_order",
            "sales_day_of_new_line", "sales_day_of_changed_line", "sales_day_of_removed_line"}


def noted() -> set[date]:
    db.session.commit()
    return set(db.session.scalars(select(SalesDayChanged.shop_day)))


def placed_on(order: Order, at: datetime) -> Order:
    order.created_at = at
    db.session.commit()
    return order


def test_the_migrations_install_the_triggers(app):
    if db.engine.dialect.name == "postgresql":
        names = db.session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    else:
        names = db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    # SQLite notes a new order's day from its lines' trigger (see the migration).
    assert TRIGGERS - ({"sales_day_of_new_order"} if db.engine.dialect.name == "sqlite" else set()) <= set(names)


def test_every_write_notes_its_shop_day(app, make_product):
    make_product("A", price="10.00", stock=100)
    today = shop_today()
    order = new_order("A", 1, name="Ann", email="ann@example.com")
    assert noted() == {today}
    store_changed_sales_days()
    assert noted() == set()
    # 23:30 UTC on 24 Oct is 00:30 BST on the 25th: moving it notes the day it left and the day it joined.
    placed_on(order, datetime(2026, 10, 24, 23, 30))
    assert noted() == {today, date(2026, 10, 25)}
    store_changed_sales_days()
    order.lines[0].quantity = 3  # an edited line
    assert noted() == {date(2026, 10, 25)}
    store_changed_sales_days()
    db.session.execute(update(Order).where(Order.id == order.id).values(notes="no figure reads this"))
    assert noted() == set()
    db.session.execute(update(Order).where(Order.id == order.id).values(status="cancelled"))  # in bulk
    assert noted() == {date(2026, 10, 25)}
    store_changed_sales_days()
    db.session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    assert noted() == {date(2026, 10, 25)}
    store_changed_sales_days()
    # A whole order deleted (the shop never does; a bare one, as nothing else refers to it), with its lines.
    bare = Order(customer_id=order.customer_id, channel="import", status="delivered", total=Decimal("5.00"),
                 created_at=datetime(2026, 10, 1, 12), lines=[
                     OrderLine(sku="A", name="A", quantity=1, unit_price=Decimal("5.00"), line_total=Decimal("5.00"))])
    db.session.add(bare)
    assert noted() == {date(2026, 10, 1)}
    store_changed_sales_days()
    db.session.delete(bare)
    assert noted() == {date(2026, 10, 1)}


def test_an_order_put_on_another_customer_moves_its_purchase_in_the_buyers_figures(app, make_product):
    make_product("A", price="10.00", stock=100)
    order = new_order("A", 1, name="Ann", email="ann@example.com")
    bob = new_order("A", 2, name="Bob", email="bob@example.com").customer_id
    store_changed_sales_days()
    today = shop_today()
    assert [row["name"] for row in kpis.top_customers(today, today)] == ["Bob", "Ann"]
    db.session.execute(update(Order).where(Order.id == order.id).values(customer_id=bob))  # in bulk
    assert noted() == {today}
    for stored in (False, True):  # worked out live, then from the stored rollup
        top = kpis.top_customers(today, today)
        assert [(row["name"], row["orders"]) for row in top] == [("Bob", 2)], stored
        assert kpis.order_frequency(today, today)[1] == {"orders": "2", "customers": 1}
        store_changed_sales_days()


def test_orders_written_without_a_shop_day_count_before_and_after_it_is_filled(app, make_product):
    make_product("A", price="10.00", stock=100)
    customer_id = new_order("A", 1, name="Ann", email="ann@example.com").customer_id
    store_changed_sales_days()
    ids = new_ids(Order, 2)
    db.session.execute(insert(Order), [
        {"id": i, "number": f"RAW-{i}", "customer_id": customer_id, "channel": "import", "status": "delivered",
         "total": Decimal("20.00"), "hold_reasons": [], "created_at": datetime(2026, 10, 24, 23, 30),
         "updated_at": datetime(2026, 10, 24, 23, 30)} for i in ids])
    assert noted() == set()  # no day to note yet
    assert kpis.figures(date(2026, 10, 25), date(2026, 10, 25)).orders == 2  # worked out live
    assert store_changed_sales_days() == 1  # fills the day, which notes it, then stores it
    assert db.session.scalar(select(DailySales.orders).where(DailySales.shop_day == date(2026, 10, 25))) == 2
    assert kpis.figures(date(2026, 10, 25), date(2026, 10, 25)).orders == 2


def test_the_job_runs_on_a_real_worker(app, make_product):
    make_product("A", price="10.00", stock=100)
    new_order("A", 1, name="Ann", email="ann@example.com")
    db.session.commit()
    queue = Queue(QUEUE_DEFAULT, connection=redis_connection())
    job = queue.enqueue(store_changed_sales_days)
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    assert job.get_status(refresh=True) == "finished" and job.return_value() == 1
    assert noted() == set()
    assert db.session.scalar(select(func.sum(DailySales.orders))) == 1


def test_the_figures_match_after_api_orders_transitions_imports_and_deletes(app, api, make_product, tmp_path):
    make_product("A", name="Alpha vase", price="10.37", stock=1000, cost="4.10")
    make_product("B", name="Beta cup", price="4.91", stock=1000)
    today = shop_today()
    week = (today - timedelta(days=6), today)
    numbers = []
    for n in range(6):
        body = {"customer": {"name": f"Buyer {n % 3}", "email": f"buyer{n % 3}@example.com",
                             "address": {"line1": "1 Road", "city": "Leeds", "postcode": "LS1", "country": "GB"}},
                "lines": [{"sku": "A", "quantity": 1 + n % 2}, {"sku": "B", "quantity": 2}]}
        response = api.post("/orders", body, key=f"order-{n}")
        assert response.status_code == 201, response.json
        numbers.append(response.json["number"])
    db.session.rollback()
    check(*week)
    for number, steps in zip(numbers, (["shipped", "delivered"], ["shipped", "delivered", "returned"],
                                       ["cancelled"], ["shipped"])):
        for to in steps:
            body = {"to": to, "carrier": "Royal Mail", "tracking_number": "RM1"} if to == "shipped" else {"to": to}
            assert api.post(f"/orders/{number}/transitions", body).status_code == 200
    db.session.rollback()
    check(*week)

    # History: past orders, two near midnight (00:30 BST on 25 Oct is 23:30 UTC on the 24th), one returned.
    history = write_csv(tmp_path / "history.csv", GENERIC_HEADER, [
        ["H1", "2026-10-24 23:30", "delivered", "A", "Alpha vase", 2, "10.37", "GBP", "h1@example.com", "Hal", "GB",
         "York"],
        ["H1", "2026-10-24 23:30", "delivered", "B", "Beta cup", 1, "4.91", "GBP", "h1@example.com", "Hal", "GB",
         "York"],
        ["H2", "2026-10-25 00:10", "cancelled", "B", "Beta cup", 3, "4.91", "GBP", "h2@example.com", "Ida", "IE",
         "Cork"],
        ["H3", "2026-10-26 12:00", "returned", "A", "Alpha vase", 1, "9.99", "GBP", "h1@example.com", "Hal", "GB",
         "York"],
    ])
    assert import_orders(history, "generic", history=True).orders == 3
    for first, last in (week, (date(2026, 10, 24), date(2026, 10, 26)), (date(2026, 10, 25), date(2026, 10, 25))):
        check(first, last)
    live = write_csv(tmp_path / "live.csv", GENERIC_HEADER, [
        ["L1", today.isoformat(), "", "B", "Beta cup", 4, "4.91", "GBP", "buyer1@example.com", "Buyer 1", "GB",
         "Leeds"],
    ])
    assert import_orders(live, "generic", history=False).orders == 1
    check(*week)

    # Deletes: a line of one order, then a whole (imported) order.
    edited = db.session.scalars(select(Order).where(Order.number == numbers[4])).one()
    db.session.delete(edited.lines[1])
    edited.total = edited.lines[0].line_total
    db.session.commit()
    db.session.delete(db.session.scalars(select(Order).where(Order.external_ref == "H3")).one())  # no stock moved
    db.session.commit()
    check(*week)
    check(date(2026, 10, 20), today)


def test_a_range_with_a_thousand_separate_changed_days_is_read_and_stays_exact(app, make_product):
    """A shop that sold every other day for years, all noted (after the upgrade or a time-zone change): the read
    seeks the changed days within one bound rather than one term per run, which SQLite refuses past ~1,000."""
    make_product("A", price="10.00", stock=10_000)
    first = date(2020, 1, 6)
    order = new_order("A", 1, name="Ann", email="ann@example.com")
    rows = [{"id": i, "number": f"ALT-{i}", "customer_id": order.customer_id, "channel": "import",
             "status": "delivered", "total": Decimal("10.00"), "hold_reasons": [],
             "shop_day": first + timedelta(days=2 * n),
             "created_at": datetime.combine(first + timedelta(days=2 * n), datetime.min.time()) + timedelta(hours=12),
             "updated_at": datetime(2026, 1, 1)} for n, i in enumerate(new_ids(Order, 1100))]
    db.session.execute(insert(Order), rows)
    db.session.execute(insert(OrderLine), [{"order_id": row["id"], "sku": "A", "name": "A", "quantity": 1,
                                            "unit_price": Decimal("10.00"), "line_total": Decimal("10.00")}
                                           for row in rows])
    db.session.execute(insert(SalesDayChanged), [{"shop_day": row["shop_day"]} for row in rows])
    db.session.commit()
    last = first + timedelta(days=2200)
    assert kpis.figures(first, last).orders == 1100
    check(first, last)
