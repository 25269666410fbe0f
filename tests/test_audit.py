"""The audit on intake: blocked customers are rejected, soft rules hold with reasons, otherwise confirmed."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import ADDRESS, new_order
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.intake import OrderInputError, take_order
from webapp.orders.schemas import OrderIn
from webapp.settings.models import current_settings


def _order(lines, **extra):
    payload = {"customer": {"name": "Jane Doe", "email": "jane@example.com", "address": ADDRESS},
               "lines": lines, "channel": "api"}
    payload.update(extra)
    order = take_order(OrderIn.model_validate(payload), actor="test")
    db.session.commit()
    return order


def test_clean_order_is_confirmed(app, make_product):
    make_product("MUG-BLU", stock=5)
    order = _order([{"sku": "MUG-BLU", "quantity": 2}])
    assert (order.status, order.hold_reasons) == ("confirmed", [])


def test_blocked_customer_is_rejected_and_kept_for_the_record(app, make_product):
    make_product("MUG-BLU", stock=5)
    db.session.add(Customer(name="Mallory", email="jane@example.com", blocked=True))
    db.session.commit()
    order = _order([{"sku": "MUG-BLU", "quantity": 1}])
    assert order.status == "rejected"
    assert order.hold_reasons == ["Customer Mallory is blocked."]
    assert order.events[-1].to_status == "rejected" and "blocked" in order.events[-1].note
    assert order.id is not None


@pytest.mark.parametrize("line, reason", [
    ({"sku": "MUG-BLU", "quantity": 1, "unit_price": "10.00"},
     "Price of MUG-BLU is 10.00, 29% below the catalogue price 14.00."),
    ({"sku": "MUG-BLU", "quantity": 1, "unit_price": "20.00"},
     "Price of MUG-BLU is 20.00, 43% above the catalogue price 14.00."),
    ({"sku": "MUG-BLU", "quantity": 9}, "Not enough stock of MUG-BLU: 9 ordered, 5 available."),
])
def test_soft_rules_hold_with_a_readable_reason(app, make_product, line, reason):
    make_product("MUG-BLU", price="14.00", stock=5)
    order = _order([line])
    assert order.status == "on_hold"
    assert order.hold_reasons == [reason]


def test_price_within_tolerance_passes(app, make_product):
    make_product("MUG-BLU", price="14.00", stock=5)
    assert _order([{"sku": "MUG-BLU", "quantity": 1, "unit_price": "13.00"}]).status == "confirmed"


def test_total_above_review_threshold_is_held(app, make_product):
    make_product("TPT-6CP", price="600.00", stock=5)
    order = _order([{"sku": "TPT-6CP", "quantity": 2}])
    assert order.status == "on_hold"
    assert order.hold_reasons == ["Total 1200.00 is above the review threshold 1000.00."]


def test_missing_shipping_address_is_held(app, make_product):
    make_product("MUG-BLU", stock=5)
    order = take_order(OrderIn.model_validate(
        {"customer": {"name": "Jane"}, "lines": [{"sku": "MUG-BLU", "quantity": 1}]}), actor="t")
    assert order.status == "on_hold"
    assert order.hold_reasons == ["Shipping address is missing (street, city and country are needed)."]


def test_likely_duplicate_is_held_pointing_at_the_first(app, make_product):
    make_product("MUG-BLU", stock=10)
    first = _order([{"sku": "MUG-BLU", "quantity": 2}])
    second = _order([{"sku": "MUG-BLU", "quantity": 2}])
    assert second.status == "on_hold"
    assert second.hold_reasons == [
        f"Looks like a duplicate of {first.number}: same customer and items within 60 minutes."]
    third = _order([{"sku": "MUG-BLU", "quantity": 3}])
    assert third.status == "confirmed"


def test_several_reasons_are_all_listed(app, make_product):
    make_product("MUG-BLU", price="14.00", stock=1)
    order = _order([{"sku": "MUG-BLU", "quantity": 3, "unit_price": "1.00"}], channel="shopify",
                   customer={"name": "No Address"})
    assert order.status == "on_hold"
    assert len(order.hold_reasons) == 3


def test_thresholds_come_from_the_settings(app, make_product):
    make_product("MUG-BLU", price="14.00", stock=10)
    settings = current_settings()
    settings.review_total_threshold = 20
    settings.price_tolerance_percent = 50
    settings.duplicate_window_minutes = 0
    settings.require_shipping_address = False
    db.session.commit()
    held = _order([{"sku": "MUG-BLU", "quantity": 2}])
    assert held.hold_reasons == ["Total 28.00 is above the review threshold 20.00."]
    assert _order([{"sku": "MUG-BLU", "quantity": 1, "unit_price": "10.00"}]).status == "confirmed"
    assert _order([{"sku": "MUG-BLU", "quantity": 1, "unit_price": "10.00"}]).status == "confirmed"  # no duplicate rule
    assert take_order(OrderIn.model_validate({"customer": {"name": "J"}, "lines": [{"sku": "MUG-BLU", "quantity": 1}]}),
                      actor="t").status == "confirmed"


def test_unknown_sku_from_a_person_or_client_is_a_422_error(app, make_product):
    make_product("MUG-BLU", stock=5)
    make_product("OLD-1", stock=5, active=False)
    with pytest.raises(OrderInputError) as error:
        _order([{"sku": "MUG-BLU", "quantity": 1}, {"sku": "NOPE", "quantity": 1}, {"sku": "OLD-1", "quantity": 1}])
    assert error.value.errors == {"lines.1.sku": ["unknown SKU 'NOPE'"], "lines.2.sku": ["unknown SKU 'OLD-1'"]}


@pytest.mark.parametrize("extra, priority", [
    ({}, "standard"),
    ({"shipping_method": "Express 24"}, "express"),
    ({"shipping_method": "Royal Mail Next Day"}, "express"),
    ({"due_date": (date.today() + timedelta(days=1)).isoformat()}, "express"),
    ({"due_date": (date.today() + timedelta(days=10)).isoformat()}, "standard"),
    ({"priority": "express"}, "express"),
])
def test_priority_from_shipping_method_or_due_date(app, make_product, extra, priority):
    make_product("MUG-BLU", stock=5)
    assert _order([{"sku": "MUG-BLU", "quantity": 1}], **extra).priority == priority


def test_customers_are_matched_by_email_then_phone(app, make_product):
    make_product("MUG-BLU", stock=50)
    new_order(quantity=1, name="Jane Doe", email="Jane@Example.com")
    take_order(OrderIn.model_validate({"customer": {"name": "J. Doe", "email": "jane@example.com", "address": ADDRESS},
                                       "lines": [{"sku": "MUG-BLU", "quantity": 2}]}), actor="t")
    take_order(OrderIn.model_validate({"customer": {"name": "Sam", "phone": "+44 7700 900999", "address": ADDRESS},
                                       "lines": [{"sku": "MUG-BLU", "quantity": 3}]}), actor="t")
    take_order(OrderIn.model_validate({"customer": {"name": "Sam Smith", "phone": "+447700900999", "address": ADDRESS},
                                       "lines": [{"sku": "MUG-BLU", "quantity": 4}]}), actor="t")
    db.session.commit()
    customers = db.session.scalars(select(Customer).order_by(Customer.id)).all()
    assert [(c.name, c.email, c.phone) for c in customers] == [
        ("Jane Doe", "jane@example.com", None), ("Sam", None, "+447700900999")]
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2


def test_matching_fills_gaps_but_never_overwrites(app, make_product):
    make_product("MUG-BLU", stock=50)
    db.session.add(Customer(name="Jane", email="jane@example.com", city="Leeds"))
    db.session.commit()
    take_order(OrderIn.model_validate({"customer": {"name": "Jane", "email": "jane@example.com",
                                                    "phone": "0113 496 0000",
                                                    "address": {"line1": "1 New Rd", "city": "York", "country": "GB"}},
                                       "lines": [{"sku": "MUG-BLU", "quantity": 1}]}), actor="t")
    customer = db.session.scalars(select(Customer)).one()
    assert (customer.city, customer.phone, customer.address_line1) == ("Leeds", "01134960000", "1 New Rd")


def test_totals_are_exact_decimals(app, make_product):
    make_product("A", price="0.10", stock=100)
    make_product("B", price="0.20", stock=100)
    order = _order([{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}], shipping="2.95")
    assert str(order.subtotal) == "0.50" and str(order.total) == "3.45"
