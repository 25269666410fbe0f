"""Predicted ship dates from the shop's own processing times: the model, where it shows, and the at-risk alert."""
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import order_in_status
from tests.test_board import cards, column_html, count_queries
from webapp.alerts.models import Alert
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.orders.ship_dates import (
    build_model,
    forget_model,
    predict_remaining_hours,
    predict_ship,
    size_band,
)
from webapp.orders.workflow import transition
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, shop_zone, utcnow
from worker import redis_connection
from worker.jobs.alerts import scan_stock_and_deadlines

HTMX = {"HX-Request": "true"}
_numbers = itertools.count(1)


def shipped_order(priority: str, units: list[int] | int, hours: float, *, days_ago: float = 10,
                  status: str = "delivered", changed_at: datetime | None = None) -> Order:
    """A past order that took ``hours`` from creation to shipping, ``days_ago`` days ago."""
    customer = db.session.scalar(select(Customer).where(Customer.name == "Past customer"))
    if customer is None:
        customer = Customer(name="Past customer", email="past@example.com")
    created = utcnow() - timedelta(days=days_ago)
    quantities = units if isinstance(units, list) else [units]
    order = Order(number=f"H-{next(_numbers):06d}", customer=customer, status=status, priority=priority,
                  created_at=created, updated_at=changed_at or created,
                  shipped_at=created + timedelta(hours=hours) if status != "cancelled" else None,
                  lines=[OrderLine(sku="MUG-BLU", name="Blue mug", quantity=q, unit_price=Decimal("14.00"),
                                   line_total=Decimal("14.00") * q) for q in quantities])
    db.session.add(order)
    db.session.commit()
    return order


@pytest.fixture
def history(app):
    """15 orders shipped in the last 180 days, in four groups, and some that must not count."""
    for hours in (2, 4, 6, 8, 10):
        shipped_order("express", 1, hours)
    shipped_order("express", [1, 2], 20)  # two lines, 3 units: "2-3"
    shipped_order("express", 2, 30, status="returned")
    for hours in (24, 48, 72, 96, 120):
        shipped_order("standard", 5, hours, status="shipped")
    for hours in (30, 40, 50):
        shipped_order("standard", 1, hours)
    shipped_order("standard", 1, 1000, days_ago=250)  # shipped before the last 180 days
    shipped_order("standard", 1, 5, status="cancelled")  # never shipped
    return build_model()


def test_size_bands():
    assert [size_band(units) for units in (0, 1, 2, 3, 4, 40)] == ["1", "1", "2-3", "2-3", "4+", "4+"]


def test_the_model_counts_orders_shipped_in_the_last_180_days_by_group(history):
    assert history.sample_count == 15
    assert {key: histogram.total for key, histogram in history.groups.items()} == {
        ("express", "1"): 5, ("express", "2-3"): 2, ("express", None): 7,
        ("standard", "4+"): 5, ("standard", "1"): 3, ("standard", None): 8, (None, None): 15}


@pytest.mark.parametrize("priority, units, elapsed, remaining, basis", [
    # Enough in the order's own group: median of 2, 4, 6, 8, 10.
    ("express", 1, 0, 6, "5 express orders of 1 item"),
    # Waited 1.5 h: all five took longer; median of (T - 1.5).
    ("express", 1, 1.5, 4.5, "5 express orders of 1 item"),
    # Waited 5 h: only 6, 8, 10 of its group are longer, so express orders: 6, 8, 10, 20, 30 -> 10 - 5.
    ("express", 1, 5, 5, "5 express orders shipped"),
    # 2-3 items has only two express orders: all seven express ones, median 8.
    ("express", 2, 0, 8, "7 express orders shipped"),
    ("standard", 4, 0, 72, "5 standard orders of 4+ items"),
    # Waited 30 h: 4+ items has four longer (48..120); standard: 40, 48, 50, 72, 96, 120 -> (50 + 72) / 2 - 30.
    ("standard", 4, 30, 31, "6 standard orders shipped"),
    # One item has three standard orders: all eight standard ones, (48 + 50) / 2.
    ("standard", 1, 0, 49, "8 standard orders shipped"),
    # Waited 100 h: only the 120 h order took longer, in any group: it is all there is.
    ("standard", 1, 100, 20, "the 1 order(s) shipped lately"),
    # Older than every order shipped lately: expected within a day.
    ("standard", 9, 130, 24, "Older than any order shipped lately"),
])
def test_hand_computed_predictions(history, priority, units, elapsed, remaining, basis):
    hours, why = predict_remaining_hours(history, priority, units, elapsed)
    assert hours == pytest.approx(remaining)
    assert basis in why


def test_without_enough_history_two_days_are_assumed(app):
    for hours in (1, 2, 3, 4):  # four are not enough
        shipped_order("standard", 1, hours)
    model = build_model()
    assert predict_remaining_hours(model, "standard", 1, 0) == (48, "Too few orders shipped yet: two days assumed.")
    assert predict_remaining_hours(model, "express", 3, 10)[0] == 38
    assert predict_remaining_hours(model, "standard", 1, 60)[0] == 24


def test_prediction_for_an_order_is_its_ship_date_in_the_shop_time_zone(history, make_product):
    make_product("MUG-BLU", stock=50)
    order = order_in_status("confirmed", quantity=5)
    now = utcnow()
    order.created_at = now - timedelta(hours=30)
    prediction = predict_ship(order, history, now)
    assert prediction.ships_at == now + timedelta(hours=31)
    assert prediction.ships_on == (now + timedelta(hours=31)).replace(tzinfo=UTC).astimezone(shop_zone()).date()
    assert prediction.label == f"ships ~{prediction.ships_on:%a} {prediction.ships_on.day} {prediction.ships_on:%b}"
    assert not prediction.misses(None) and not prediction.misses(prediction.ships_on)
    assert prediction.misses(prediction.ships_on - timedelta(days=1))
    for status in ("shipped", "cancelled"):
        assert predict_ship(order_in_status(status, quantity=1), history, now) is None


def three_days_history():
    for _ in range(5):
        shipped_order("standard", 1, 72)


def expected_label(hours: float) -> str:
    day = (datetime.now(shop_zone()) + timedelta(hours=hours)).date()
    return f"ships ~{day:%a} {day.day} {day:%b}"


def test_an_order_predicted_to_ship_after_its_due_date_is_at_risk_until_it_ships(app, make_product):
    redis_connection().flushdb()
    current_settings().shop_email = "owner@clay.example"
    db.session.commit()
    make_product("MUG-BLU", stock=50)
    three_days_history()  # orders take 3 days here
    today = shop_today()
    risky, relaxed, on_the_day, late = (order_in_status("confirmed", quantity=1) for _ in range(4))
    risky.due_date = today + timedelta(days=1)
    relaxed.due_date = today + timedelta(days=6)
    on_the_day.due_date = today + timedelta(days=3)
    late.due_date = today - timedelta(days=1)
    db.session.commit()

    assert scan_stock_and_deadlines()["overdue"] == 2
    open_alerts = {(a.kind, a.subject): a for a in db.session.scalars(select(Alert))}
    assert set(open_alerts) == {("at_risk", f"order:{risky.number}"), ("overdue", f"order:{late.number}")}
    message = open_alerts[("at_risk", f"order:{risky.number}")].message
    assert f"{risky.number} for {risky.customer.name} is due" in message
    assert expected_label(72) in message and "still confirmed" in message
    assert scan_stock_and_deadlines()["overdue"] == 0  # raised once

    transition(risky, "shipped", actor="owner", carrier="DPD")
    db.session.commit()
    scan_stock_and_deadlines()
    db.session.expire_all()
    assert open_alerts[("at_risk", f"order:{risky.number}")].cleared_at is not None
    assert open_alerts[("overdue", f"order:{late.number}")].cleared_at is None


def test_without_history_an_order_due_tomorrow_is_at_risk(app, make_product):
    make_product("MUG-BLU", stock=50)
    order = order_in_status("processing", quantity=1)
    order.due_date = shop_today() + timedelta(days=1)  # two days assumed
    db.session.commit()
    scan_stock_and_deadlines()
    assert db.session.scalars(select(Alert.subject).where(Alert.kind == "at_risk")).all() == [f"order:{order.number}"]


@pytest.fixture
def board_shop(app, auth, make_product):
    make_product("MUG-BLU", stock=100)
    auth.login()
    three_days_history()
    risky = order_in_status("confirmed", quantity=1)
    risky.due_date = shop_today() + timedelta(days=1)
    packing = order_in_status("processing", quantity=1)
    db.session.commit()
    return {"risky": risky, "packing": packing, "held": order_in_status("on_hold", quantity=1),
            "shipped": order_in_status("shipped", quantity=1)}


def card_html(html: str, number: str) -> str:
    card = html[html.index(f'id="card-{number}"'):]
    return card[:card.index("</article>")]


def test_cards_show_the_predicted_ship_date_and_flag_a_late_one(client, board_shop):
    html = client.get("/board").get_data(as_text=True)
    risky = card_html(html, board_shop["risky"].number)
    assert '<span class="ships at-risk" title="From 5 standard orders of 1 item' in risky
    assert expected_label(72) in risky
    packing = card_html(html, board_shop["packing"].number)
    assert expected_label(72) in packing and "at-risk" not in packing
    assert "ships ~" not in card_html(html, board_shop["shipped"].number)  # already gone


def test_the_order_page_shows_the_predicted_ship_date(client, board_shop):
    page = client.get(f"/orders/{board_shop['risky'].number}").get_data(as_text=True)
    assert f"{expected_label(72)}, after its due date" in page and 'class="prediction at-risk"' in page
    shipped = client.get(f"/orders/{board_shop['shipped'].number}").get_data(as_text=True)
    assert "ships ~" not in shipped


def board_queries(client) -> tuple[list[str], str]:
    db.session.commit()  # each measure starts alike: nothing loaded in the test's session
    with count_queries() as queries:
        html = client.get("/board").get_data(as_text=True)
    return queries, html


def test_board_queries_do_not_grow_with_cards(client, board_shop):
    client.get("/board")
    forget_model()
    cold, _ = board_queries(client)
    few, _ = board_queries(client)
    assert len(cold) == len(few) + 1  # the model: one aggregate query, then kept
    for status in ("confirmed", "processing", "on_hold") * 5:
        order_in_status(status, quantity=3)
    many, html = board_queries(client)
    assert len(many) == len(few)
    open_cards = [number for key in ("attention", "confirmed", "processing")
                  for number in cards(column_html(html, key))]
    assert len(open_cards) == 18
    assert all("ships ~" in card_html(html, number) for number in open_cards)


def test_the_board_tag_changes_when_the_model_is_rebuilt(client, board_shop):
    for _ in range(2):  # the tag also turns over each minute; at a minute boundary, ask again
        etag = client.get("/board", headers=HTMX).headers["ETag"]
        again = client.get("/board", headers={**HTMX, "If-None-Match": etag})
        if again.status_code == 304:
            break
    assert again.status_code == 304
    # More history, changed long ago (so the orders' last change stays the same): only the model differs.
    for _ in range(10):
        shipped_order("standard", 1, 200, changed_at=utcnow() - timedelta(days=30))
    forget_model()
    rebuilt = client.get("/board", headers={**HTMX, "If-None-Match": etag})
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] != etag
