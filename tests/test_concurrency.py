"""Many requests at once over real HTTP: stock is never oversold and a retried POST never makes two orders."""
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import order_body
from tests.test_analytics_recomputed import stored_earlier_orders_are_right
from tests.test_stock_ledger import assert_ledger_matches
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.models import Order, Product


def _post(url: str, body: dict, token: str, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _setup(make_app, make_user, make_product, stock: int):
    app = make_app()
    with app.app_context():
        user = make_user(email="shop@example.com")
        token = create_api_token(user, ["orders:write", "orders:read"])
        db.session.commit()
        make_product("LAST-TEN", stock=stock)
    return app, token


def test_forty_concurrent_orders_for_the_last_ten_units_confirm_exactly_ten(make_app, live_server, make_user,
                                                                            make_product):
    app, token = _setup(make_app, make_user, make_product, stock=10)
    server = live_server(app)

    def order(i):
        body = order_body("LAST-TEN", 1, customer={"name": f"Buyer {i}", "email": f"buyer{i}@example.com",
                                                   "address": {"line1": f"{i} Road", "city": "Leeds", "country": "GB"}})
        return _post(server.url + "/api/v1/orders", body, token)

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(order, range(40)))

    assert all(status == 201 for status, _ in results), results
    statuses = sorted(body["status"] for _, body in results)
    assert statuses.count("confirmed") == 10
    assert statuses.count("on_hold") == 30
    with app.app_context():
        product = db.session.scalars(select(Product).where(Product.sku == "LAST-TEN")).one()
        assert (product.on_hand, product.reserved, product.available) == (10, 10, 0)
        assert_ledger_matches()


def test_concurrent_orders_for_several_units_never_oversell(make_app, live_server, make_user, make_product):
    app, token = _setup(make_app, make_user, make_product, stock=10)
    server = live_server(app)

    def order(i):
        body = order_body("LAST-TEN", 3, customer={"name": f"Buyer {i}", "email": f"b{i}@example.com",
                                                   "address": {"line1": "1", "city": "Leeds", "country": "GB"}})
        return _post(server.url + "/api/v1/orders", body, token)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(order, range(20)))
    assert sum(1 for _, body in results if body["status"] == "confirmed") == 3  # 9 of 10 units
    with app.app_context():
        product = db.session.scalars(select(Product)).one()
        assert (product.reserved, product.available) == (9, 1)
        assert_ledger_matches()


def test_same_idempotency_key_sent_concurrently_creates_one_order(make_app, live_server, make_user, make_product):
    app, token = _setup(make_app, make_user, make_product, stock=50)
    server = live_server(app)
    body = order_body("LAST-TEN", 2)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: _post(server.url + "/api/v1/orders", body, token, key="checkout-7781"),
                                range(16)))

    assert {status for status, _ in results} <= {200, 201}
    assert {body["number"] for _, body in results} == {"SO-000001"}
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.scalars(select(Product)).one().reserved == 2
        assert_ledger_matches()


@pytest.mark.parametrize("target, body", [
    ("cancelled", {"to": "cancelled"}),
    ("shipped", {"to": "shipped", "carrier": "DPD"}),
])
def test_the_same_transition_sent_many_times_at_once_applies_once(make_app, live_server, make_user, make_product,
                                                                  target, body):
    app, token = _setup(make_app, make_user, make_product, stock=10)
    server = live_server(app)
    assert _post(server.url + "/api/v1/orders", order_body("LAST-TEN", 4), token)[0] == 201
    with app.app_context():  # another order holds a reservation that a double release would eat into
        other = _post(server.url + "/api/v1/orders", order_body("LAST-TEN", 3, customer={
            "name": "Other", "email": "other@example.com", "address": {"line1": "1", "city": "X", "country": "GB"}}),
            token)
        assert other[1]["status"] == "confirmed"

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: _post(server.url + "/api/v1/orders/SO-000001/transitions", body, token),
                                range(12)))

    assert sorted(status for status, _ in results).count(200) == 1
    assert {status for status, _ in results} == {200, 409}
    with app.app_context():
        product = db.session.scalars(select(Product)).one()
        expected = (10, 3) if target == "cancelled" else (6, 3)
        assert (product.on_hand, product.reserved) == expected
        assert_ledger_matches()


def test_concurrent_orders_of_one_customer_each_count_the_ones_placed_before(make_app, live_server, make_user,
                                                                             make_product):
    """Each order stores its customer's earlier orders (for the dashboard): orders arriving at once must each see the
    ones committed before them, not only those committed when its own transaction began."""
    app, token = _setup(make_app, make_user, make_product, stock=1000)
    server = live_server(app)
    customer = {"name": "Regular", "email": "regular@example.com",
                "address": {"line1": "1 Road", "city": "Leeds", "country": "GB"}}

    def order(i):
        return _post(server.url + "/api/v1/orders", order_body("LAST-TEN", 1 + i % 3, customer=customer), token)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(order, range(24)))

    assert all(status == 201 for status, _ in results), results
    with app.app_context():
        assert stored_earlier_orders_are_right() == 0
        counts = db.session.scalars(select(Order.earlier_orders).order_by(Order.created_at, Order.id)).all()
        assert counts == list(range(24))
