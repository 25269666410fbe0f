"""The demo shop (`flask demo seed`): two years of believable history that the dashboard, forecasts, reorder list and
customer insight can work with, and rows as consistent as the real intake and workflow would have written."""
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.test_stock_ledger import assert_ledger_matches
from webapp.analytics.kpis import figures, summary
from webapp.background.models import PendingJob
from webapp.demo_shop.history import ShopHistory
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.forecasting.runs import forecast_product
from webapp.invoices.models import Invoice
from webapp.models import Customer, Order, OrderEvent, OrderLine, Product
from webapp.orders.intake import order_number, take_order, tax_on
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import PAYMENT_TRANSITIONS, RESERVING_STATUSES, STATUSES, TRANSITIONS
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, shop_zone, utcnow

OPEN = ("pending", "on_hold", "confirmed", "processing")


def seed(runner, *args: str) -> str:
    result = runner.invoke(args=["demo", "seed", *args])
    assert result.exit_code == 0, result.output
    return result.output


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def units_by_day() -> dict:
    """Units sold per shop-local day, as the forecasts count them (cancelled and rejected left out)."""
    zone = shop_zone()
    rows = db.session.execute(
        select(Order.created_at, OrderLine.quantity).join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.not_in(("cancelled", "rejected")))
    ).all()
    units: Counter = Counter()
    for created, quantity in rows:
        units[created.replace(tzinfo=UTC).astimezone(zone).date()] += quantity
    return units


def per_day(units: dict, days) -> float:
    days = list(days)
    return sum(units.get(day, 0) for day in days) / len(days)


def test_two_years_of_history_for_forecasts_dashboard_and_customer_insight(runner):
    output = seed(runner, "--if-empty")
    print(f"\nfull demo seed: {output.strip()}")  # the time it took, for the record (pytest -s)
    today = shop_today()

    products = {p.sku: p for p in db.session.scalars(select(Product))}
    assert 15 <= len(products) <= 20
    assert count(Customer) >= 300 and count(Order) >= 3000 and count(OrderLine) >= 9000
    first = db.session.scalar(select(func.min(Order.created_at)))
    assert timedelta(days=725) < utcnow() - first < timedelta(days=732)
    assert_ledger_matches()
    assert set(db.session.scalars(select(Order.status).distinct())) == set(STATUSES)

    units = units_by_day()
    days = [today - timedelta(days=n) for n in range(1, 729)]
    weekdays = per_day(units, (d for d in days if d.weekday() < 5))
    weekends = per_day(units, (d for d in days if d.weekday() >= 5))
    assert weekends < 0.9 * weekdays, (weekends, weekdays)
    december = next(d for d in days if d.month == 12 and d.day == 15)
    june = next(d for d in days if d.month == 6 and d.day == 15)
    assert per_day(units, (d for d in days if (d.year, d.month) == (december.year, 12))) > 1.3 * per_day(
        units, (d for d in days if (d.year, d.month) == (june.year, 6)))
    assert per_day(units, days[:365]) > 1.05 * per_day(units, days[365:])  # growing

    by_sku = defaultdict(Counter)
    for sku, created, quantity in db.session.execute(
            select(OrderLine.sku, Order.created_at, OrderLine.quantity).join(Order, Order.id == OrderLine.order_id)
            .where(Order.status.not_in(("cancelled", "rejected")))):
        by_sku[sku][created.date()] += quantity
    last_year = [today - timedelta(days=n) for n in range(1, 366)]
    assert per_day(by_sku["MUG-BLU"], last_year) >= 2  # a fast mover
    assert 0 < per_day(by_sku["VAS-SCU"], last_year) <= 0.2  # a unit every week or two
    assert today - min(by_sku["MUG-TRQ"]) <= timedelta(days=95)  # launched three months ago
    gone = products["MUG-TRV"]
    assert not gone.active and gone.on_hand == 0 and today - max(by_sku["MUG-TRV"]) > timedelta(days=150)
    levels = Counter(p.stock_level for p in products.values() if p.active)
    assert levels["ok"] and levels["low"] + levels["out"], levels
    assert all(p.unit_cost and p.supplier_email and 3 <= p.lead_time_days <= 30 for p in products.values())

    orders_per_customer = db.session.execute(
        select(Order.customer_id, func.count(Order.id), func.min(Order.created_at), func.max(Order.created_at))
        .group_by(Order.customer_id)).all()
    now = utcnow()
    assert any(n == 1 for _, n, _, _ in orders_per_customer)
    assert sum(n >= 5 for _, n, _, _ in orders_per_customer) >= 20  # loyal repeat buyers
    assert any(n >= 3 and now - last > timedelta(days=300) for _, n, _, last in orders_per_customer)  # lapsed
    assert any(now - first < timedelta(days=60) for _, _, first, _ in orders_per_customer)  # new
    assert len(set(db.session.scalars(select(Customer.country)))) >= 5
    assert set(db.session.scalars(select(Order.channel).distinct())) == {
        "web", "api", "import", "shopify", "woocommerce", "paste"}

    recent = summary(today - timedelta(days=29), today)
    assert recent.orders > 0 and recent.revenue > 0 and recent.t_avg_hours
    assert recent.completion_rate and recent.repeat_customer_rate and recent.top_products
    assert count(OrderFeedback) > 100 and figures(today - timedelta(days=89), today).average_rating

    # The forecasts have something to work with: a fast mover gets Prophet with both seasons, a slow one the
    # fallback, and the fast mover's backtest is printed for the record.
    mug = forecast_product(products["MUG-BLU"].id)
    print(f"MUG-BLU backtest: MASE {mug.backtest_mase:.2f} against seasonal-naive {mug.baseline_mase:.2f}")
    assert mug.model == "prophet" and "weekly and yearly" in mug.model_note and mug.backtest_mase is not None
    assert forecast_product(products["VAS-SCU"].id).model == "fallback"

    orders = count(Order)
    assert "skipped" in seed(runner, "--if-empty")
    again = runner.invoke(args=["demo", "seed", "--days", "30"])
    assert again.exit_code != 0 and "empty shop" in again.output
    assert count(Order) == orders


def test_orders_events_and_stock_agree(runner):
    seed(runner, "--days", "120", "--seed", "11")
    settings = current_settings()
    now, today = utcnow(), shop_today()
    orders = db.session.scalars(select(Order)).all()
    events = defaultdict(list)
    for event in db.session.scalars(select(OrderEvent).order_by(OrderEvent.id)):
        events[event.order_id].append(event)

    assert len({o.number for o in orders}) == len(orders)
    for order in orders:
        assert re.fullmatch(r"SO-\d{6}", order.number) and order.number == order_number(order.id)
        assert all(line.line_total == line.unit_price * line.quantity for line in order.lines)
        assert order.subtotal == sum(line.line_total for line in order.lines)
        assert order.tax == tax_on(order.subtotal + order.shipping - order.discount, settings)
        assert order.total == order.subtotal + order.shipping - order.discount + (
            0 if settings.prices_include_tax else order.tax)

        timeline = events[order.id]
        assert (timeline[0].kind, timeline[0].to_status, timeline[0].created_at) == (
            "created", "pending", order.created_at)
        times = [e.created_at for e in timeline]
        assert times == sorted(times) and times[-1] <= now and order.updated_at == times[-1]
        status, payment = "pending", "unpaid"
        for event in timeline:
            if event.kind == "status":
                assert event.from_status == status and event.to_status in TRANSITIONS[status], order.number
                status = event.to_status
            elif event.kind == "payment":
                assert event.from_status == payment and event.to_status in PAYMENT_TRANSITIONS[payment]
                payment = event.to_status
        assert (status, payment) == (order.status, order.payment_status), order.number

        shipped = [e.created_at for e in timeline if e.to_status == "shipped"]
        assert order.shipped_at == (shipped[0] if shipped else None)
        assert bool(order.carrier and order.tracking_number) == bool(shipped)
        if order.status in ("on_hold", "rejected"):
            assert order.hold_reasons, order.number
        elif order.status != "cancelled":  # a cancelled order keeps the reasons it was held for
            assert order.hold_reasons == [], order.number
        assert order.payment_status == {
            "returned": "refunded", "rejected": "unpaid", "pending": "unpaid",
        }.get(order.status, order.payment_status)
        if order.status == "delivered":
            assert order.payment_status in ("paid", "partially_refunded")

    assert settings.tax_rate_percent == 20 and all(o.tax > 0 for o in orders if o.total)
    assert_ledger_matches()
    reserved = Counter()
    for order in orders:
        if order.status in RESERVING_STATUSES:
            for line in order.lines:
                reserved[line.product_id] += line.quantity
    assert {p.id: p.reserved for p in db.session.scalars(select(Product)) if p.reserved} == dict(reserved)

    statuses = Counter(o.status for o in orders)
    assert all(statuses[s] for s in STATUSES), statuses
    assert sum(o.status in OPEN and o.due_date is not None and o.due_date < today for o in orders) >= 2
    assert all(o.hold_reasons for o in orders if o.status == "on_hold")

    def hours_to_ship(selected):
        return statistics.median((o.shipped_at - o.created_at).total_seconds() / 3600 for o in selected)

    zone = shop_zone()
    shipped = [o for o in orders if o.shipped_at]
    assert hours_to_ship(o for o in shipped if o.priority == "express") < hours_to_ship(
        o for o in shipped if o.priority == "standard")
    weekday = [o for o in shipped if o.created_at.replace(tzinfo=UTC).astimezone(zone).weekday() in (0, 1, 2)]
    weekend = [o for o in shipped if o.created_at.replace(tzinfo=UTC).astimezone(zone).weekday() in (5, 6)]
    assert hours_to_ship(weekend) > hours_to_ship(weekday)

    # The made-up customers got no email, no job waits for a worker, and historic orders have no invoices.
    assert count(OutgoingEmail) == count(PendingJob) == count(Invoice) == 0


def test_a_real_order_after_the_seed_gets_the_next_number(runner):
    seed(runner, "--days", "30")
    last = db.session.scalar(select(func.max(Order.id)))
    order = take_order(OrderIn.model_validate({
        "customer": {"name": "Jane Doe", "email": "jane.new@example.com",
                     "address": {"line1": "1 High St", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}},
        "lines": [{"sku": "GFT-CRD", "quantity": 1}], "channel": "web"}), actor="test")
    db.session.commit()
    assert order.id > last and order.number == order_number(order.id)
    assert_ledger_matches()


def test_a_configured_shop_keeps_its_settings(runner):
    settings = current_settings()
    settings.shop_name, settings.prices_include_tax, settings.tax_rate_percent = "My studio", False, Decimal("10")
    db.session.commit()
    seed(runner, "--days", "20")
    db.session.expire_all()
    assert (current_settings().shop_name, current_settings().tax_rate_percent) == ("My studio", 10)
    for order in db.session.scalars(select(Order)):
        assert order.total == order.subtotal + order.shipping - order.discount + order.tax
        assert order.tax == tax_on(order.subtotal + order.shipping - order.discount, current_settings())


def test_the_same_seed_gives_the_same_shop():
    settings = SimpleNamespace(express_window_days=2, review_total_threshold=Decimal("1000.00"),
                               duplicate_window_minutes=60, tax_rate_percent=Decimal("20"), prices_include_tax=True)
    now = datetime(2026, 3, 4, 15, 30)

    def fingerprint(seed):
        history = ShopHistory(days=45, seed=seed, now=now, zone=ZoneInfo("Europe/London"), settings=settings)
        history.simulate()
        return [(o.created_at, o.customer.identity.email, o.status, o.total, [e.at for e in o.events])
                for o in history.orders]

    assert fingerprint(3) == fingerprint(3)
    assert fingerprint(3) != fingerprint(4)


def test_too_short_a_history_is_refused(runner):
    result = runner.invoke(args=["demo", "seed", "--days", "3"])
    assert result.exit_code != 0 and "--days" in result.output
    assert count(Order) == 0


@pytest.mark.parametrize("days", ["14", "45"])
def test_short_histories_still_show_every_status(runner, days):
    seed(runner, "--days", days)
    assert_ledger_matches()
    statuses = set(db.session.scalars(select(Order.status).distinct()))
    assert {"pending", "on_hold", "confirmed", "processing", "shipped", "delivered", "rejected"} <= statuses
