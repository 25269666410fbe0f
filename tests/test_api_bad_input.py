"""Bad input to the API: a 4xx naming the field, and the database exactly as it was."""
import json

import pytest
from sqlalchemy import func, select

from tests.conftest import order_body
from webapp.extensions import db
from webapp.models import (
    Customer,
    IdempotentRequest,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    StockMovement,
)


def snapshot() -> dict:
    """Row counts and stock counters: what must not change after a refused request."""
    db.session.expire_all()
    counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Customer, Order, OrderLine, OrderEvent, StockMovement, IdempotentRequest, Product)}
    counts["stock"] = [tuple(row) for row in db.session.execute(
        select(Product.sku, Product.on_hand, Product.reserved).order_by(Product.sku))]
    return counts


def _with(**changes):
    body = order_body("MUG-BLU", 1)
    body.update(changes)
    return body


def _line(**changes):
    body = order_body("MUG-BLU", 1)
    body["lines"][0].update(changes)
    return body


def _customer(**changes):
    body = order_body("MUG-BLU", 1)
    body["customer"].update(changes)
    return body


BAD_ORDERS = [
    ("no lines", _with(lines=[]), "lines"),
    ("lines not a list", _with(lines="MUG-BLU"), "lines"),
    ("zero quantity", _line(quantity=0), "lines.0.quantity"),
    ("negative quantity", _line(quantity=-2), "lines.0.quantity"),
    ("fractional quantity", _line(quantity=1.5), "lines.0.quantity"),
    ("quantity as text", _line(quantity="two"), "lines.0.quantity"),
    ("quantity as numeric text", _line(quantity="2"), "lines.0.quantity"),
    ("quantity as boolean", _line(quantity=True), "lines.0.quantity"),
    ("huge quantity", _line(quantity=10**12), "lines.0.quantity"),
    ("missing sku", {"customer": {"name": "A"}, "lines": [{"quantity": 1}]}, "lines.0.sku"),
    ("empty sku", _line(sku=""), "lines.0.sku"),
    ("unknown sku", _line(sku="NOPE-1"), "lines.0.sku"),
    ("negative price", _line(unit_price="-1.00"), "lines.0.unit_price"),
    ("price with three decimals", _line(unit_price="1.005"), "lines.0.unit_price"),
    ("price not a number", _line(unit_price="cheap"), "lines.0.unit_price"),
    ("price infinite", _line(unit_price="Infinity"), "lines.0.unit_price"),
    ("missing customer", {"lines": [{"sku": "MUG-BLU", "quantity": 1}]}, "customer"),
    ("customer not an object", _with(customer="Jane"), "customer"),
    ("missing customer name", _customer(name=None), "customer.name"),
    ("blank customer name", _customer(name="   "), "customer.name"),
    ("bad email", _customer(email="jane-at-example"), "customer.email"),
    ("bad country", _customer(address={"line1": "1", "city": "X", "country": "England"}), "customer.address.country"),
    ("unknown channel", _with(channel="fax"), "channel"),
    ("unknown priority", _with(priority="urgent"), "priority"),
    ("bad due date", _with(due_date="next tuesday"), "due_date"),
    ("impossible due date", _with(due_date="2026-02-30"), "due_date"),
    ("negative shipping", _with(shipping="-3.00"), "shipping"),
    ("unknown field", _with(coupon="FREE"), "coupon"),
    ("notes too long", _with(notes="x" * 6000), "notes"),
    ("NUL in a name", _customer(name="Jane\u0000Doe"), "customer.name"),
    ("control character in notes", _with(notes="call \u0007 me"), "notes"),
    ("line total too large", _line(quantity=100_000, unit_price="9999999999.99"), "lines.0.quantity"),
    ("order total too large", {**_with(shipping="9999999999.99")}, "lines"),
    ("price too large", _line(unit_price="99999999999.00"), "lines.0.unit_price"),
]


@pytest.mark.parametrize("name, body, field", BAD_ORDERS, ids=[case[0] for case in BAD_ORDERS])
def test_malformed_order_is_422_naming_the_field_and_stores_nothing(api, make_product, name, body, field):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = api.post("/orders", body, key=f"bad-{name}")
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert all(isinstance(m, str) and m for messages in response.json["errors"].values() for m in messages)
    assert snapshot() == before


@pytest.mark.parametrize("raw, message", [
    ("{not json", "JSON object"),
    ("[1, 2]", "JSON object"),
    ("", "JSON object"),
    ("null", "JSON object"),
    ('"a string"', "JSON object"),
])
def test_body_that_is_not_a_json_object_is_422(api, make_product, raw, message):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = api.post("/orders", raw=raw)
    assert response.status_code == 422
    assert message in response.json["errors"]["body"][0]
    assert snapshot() == before


BAD_PRODUCTS = [
    ({"name": "Mug", "unit_price": "1.00"}, "sku"),
    ({"sku": "has space", "name": "Mug", "unit_price": "1.00"}, "sku"),
    ({"sku": "MUG-2", "unit_price": "1.00"}, "name"),
    ({"sku": "MUG-2", "name": "Mug"}, "unit_price"),
    ({"sku": "MUG-2", "name": "Mug", "unit_price": "-5"}, "unit_price"),
    ({"sku": "MUG-2", "name": "Mug", "unit_price": "1.00", "reorder_point": -1}, "reorder_point"),
    ({"sku": "MUG-2", "name": "Mug", "unit_price": "1.00", "reorder_point": 2.5}, "reorder_point"),
    ({"sku": "MUG-2", "name": "Mug", "unit_price": "1.00", "lead_time_days": "soon"}, "lead_time_days"),
    ({"sku": "MUG-2", "name": "Mug", "unit_price": "1.00", "supplier_email": "nope"}, "supplier_email"),
]


@pytest.mark.parametrize("body, field", BAD_PRODUCTS)
def test_malformed_product_is_422_naming_the_field(api, make_product, body, field):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = api.post("/products", body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert snapshot() == before


def test_duplicate_sku_is_409(api, make_product):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = api.post("/products", {"sku": "MUG-BLU", "name": "Again", "unit_price": "2.00"})
    assert response.status_code == 409
    assert "already used" in response.json["errors"]["sku"][0]
    assert snapshot() == before


@pytest.mark.parametrize("body, field, status", [
    ({"delta": 0, "reason": "x"}, "delta", 422),
    ({"delta": -6, "reason": "lost"}, "delta", 409),
    ({"delta": 1.5, "reason": "x"}, "delta", 422),
    ({"delta": "3", "reason": "x"}, "delta", 422),
    ({"delta": 3}, "reason", 422),
    ({"delta": 3, "reason": ""}, "reason", 422),
    ({"delta": -1, "reason": "x", "kind": "receive"}, "delta", 422),
    ({"delta": 1, "reason": "bad\u0000byte"}, "reason", 422),
    ({"delta": 1, "reason": "x", "kind": "steal"}, "kind", 422),
])
def test_bad_stock_change_is_refused_naming_the_field(api, make_product, body, field, status):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = api.post("/products/MUG-BLU/stock", body)
    assert response.status_code == status, response.json
    assert field in response.json["errors"]
    assert snapshot() == before


@pytest.mark.parametrize("body, field", [
    ({}, "to"),
    ({"to": "teleported"}, "to"),
    ({"to": "shipped", "carrier": "x" * 65}, "carrier"),
    ({"to": "cancelled", "reason": "extra"}, "reason"),
])
def test_bad_transition_body_is_422(api, make_product, body, field):
    make_product("MUG-BLU", stock=5)
    api.post("/orders", order_body("MUG-BLU", 1))
    before = snapshot()
    response = api.post("/orders/SO-000001/transitions", body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert snapshot() == before


@pytest.mark.parametrize("params, field", [
    ({"status": "lost"}, "status"), ({"page": "0"}, "page"), ({"page": "two"}, "page"), ({"page": "-1"}, "page"),
    ({"page": "²"}, "page"), ({"page": "9" * 30}, "page"),
])
def test_bad_query_string_is_422_naming_the_parameter(api, params, field):
    response = api.get("/orders", **params)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_bad_idempotency_key_is_422(api, make_product):
    make_product("MUG-BLU", stock=5)
    response = api.post("/orders", order_body(), key="x" * 300)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]


def test_wrong_method_and_unknown_path_answer_json(api):
    assert api.client.delete("/api/v1/orders", headers=api.headers()).status_code == 405
    response = api.get("/nowhere")
    assert response.status_code == 404 and "errors" in response.json


def test_error_bodies_are_json_even_for_huge_numbers(api, make_product):
    make_product("MUG-BLU", stock=5)
    raw = json.dumps(order_body()).replace('"quantity": 1', '"quantity": 1e400')
    response = api.post("/orders", raw=raw)
    assert response.status_code == 422
    assert "lines.0.quantity" in response.json["errors"]


def test_absurdly_deep_json_is_422_not_a_crash(api, make_product):
    make_product("MUG-BLU", stock=5)
    response = api.post("/orders", raw="[" * 100_000 + "]" * 100_000)
    assert response.status_code == 422 and "body" in response.json["errors"]


def test_oversized_body_is_refused(api):
    response = api.post("/orders", raw='{"notes": "' + "x" * (3 * 1024 * 1024) + '"}')
    assert response.status_code == 413 and "errors" in response.json


@pytest.mark.parametrize("path", ["/orders/SO%00", "/products/MUG%00", "/orders?q=%00"])
def test_nul_characters_in_addresses_are_refused(api, path):
    response = api.client.get("/api/v1" + path, headers=api.headers())
    assert response.status_code == 400
    assert "NUL" in response.json["errors"]["request"][0]
