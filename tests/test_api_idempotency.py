"""Idempotency-Key on every POST: a replay answers as the first request did and does the work once."""
from sqlalchemy import func, select

from tests.conftest import order_body
from webapp.extensions import db
from webapp.models import Order, StockMovement


def test_replayed_order_post_returns_the_same_order(api, make_product):
    make_product("MUG-BLU", stock=5)
    first = api.post("/orders", order_body("MUG-BLU", 2), key="order-1")
    second = api.post("/orders", order_body("MUG-BLU", 2), key="order-1")
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json["number"] == first.json["number"]
    assert second.headers["Location"] == first.headers["Location"] == "/api/v1/orders/SO-000001"
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert api.get("/products/MUG-BLU").json["reserved"] == 2


def test_same_key_with_a_different_body_is_refused(api, make_product):
    make_product("MUG-BLU", stock=5)
    api.post("/orders", order_body("MUG-BLU", 2), key="order-1")
    response = api.post("/orders", order_body("MUG-BLU", 3), key="order-1")
    assert response.status_code == 422
    assert "different request" in response.json["errors"]["Idempotency-Key"][0]
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_a_refused_request_does_not_use_up_its_key(api, make_product):
    make_product("MUG-BLU", stock=5)
    bad = order_body("MUG-BLU", 0)
    assert api.post("/orders", bad, key="order-9").status_code == 422
    assert api.post("/orders", order_body("MUG-BLU", 1), key="order-9").status_code == 201


def test_keys_of_different_tokens_do_not_collide(api, make_user, make_product):
    from webapp.auth.tokens import create_api_token

    other = create_api_token(make_user(email="other@example.com"), ["orders:write"])
    db.session.commit()
    make_product("MUG-BLU", stock=5)
    a = api.post("/orders", order_body("MUG-BLU", 1), key="same")
    b = api.post("/orders", order_body("MUG-BLU", 1, customer={"name": "B", "email": "b@example.com",
                                                              "address": {"line1": "1", "city": "Y", "country": "GB"}}),
                 key="same", token=other)
    assert a.json["number"] != b.json["number"]


def test_stock_and_transition_posts_are_idempotent_too(api, make_product):
    make_product("MUG-BLU", stock=5)
    for _ in range(3):
        assert api.post("/products/MUG-BLU/stock", {"delta": 4, "reason": "delivery", "kind": "receive"},
                        key="delivery-77").status_code == 200
    assert api.get("/products/MUG-BLU").json["on_hand"] == 9
    api.post("/orders", order_body("MUG-BLU", 1))
    for _ in range(2):
        response = api.post("/orders/SO-000001/transitions", {"to": "shipped", "carrier": "DPD"}, key="ship-1")
        assert response.status_code == 200
    assert db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.kind == "ship")) == 1
    assert api.post("/products", {"sku": "NEW-1", "name": "New", "unit_price": "1.00"}, key="p").status_code == 201
    assert api.post("/products", {"sku": "NEW-1", "name": "New", "unit_price": "1.00"}, key="p").status_code == 201
