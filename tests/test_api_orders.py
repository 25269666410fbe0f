"""The JSON API for orders: intake with audit, reading, transitions, and answers that match the OpenAPI document."""
import pytest
from sqlalchemy import func, select

from tests.conftest import order_body
from webapp.api.openapi import OrderOut, OrderPage
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.models import Order


def test_create_order_confirms_and_reserves_stock(api, make_product):
    make_product("MUG-BLU", price="14.00", stock=5)
    response = api.post("/orders", order_body("MUG-BLU", 2, shipping="3.95"))
    assert response.status_code == 201, response.json
    order = OrderOut.model_validate(response.json)
    assert order.status == "confirmed"
    assert order.number == "SO-000001"
    assert order.subtotal == "28.00" and order.shipping == "3.95" and order.total == "31.95"
    assert response.headers["Location"] == "/api/v1/orders/SO-000001"
    assert [event.to for event in order.events] == ["pending", "confirmed"]
    product = api.get("/products/MUG-BLU").json
    assert (product["on_hand"], product["reserved"], product["available"]) == (5, 2, 3)


def test_order_with_too_little_stock_is_held_with_a_reason_and_reserves_nothing(api, make_product):
    make_product("MUG-BLU", stock=1)
    response = api.post("/orders", order_body("MUG-BLU", 3))
    assert response.status_code == 201
    assert response.json["status"] == "on_hold"
    assert response.json["hold_reasons"] == ["Not enough stock of MUG-BLU: 3 ordered, 1 available."]
    assert api.get("/products/MUG-BLU").json["reserved"] == 0


def test_get_and_list_orders(api, make_product):
    make_product("MUG-BLU", stock=10)
    make_product("TPT-6CP", stock=10)
    api.post("/orders", order_body("MUG-BLU", 1))
    api.post("/orders", order_body("TPT-6CP", 1, customer={"name": "Tom Baker", "email": "tom@example.net",
                                                           "address": {"line1": "3 Mill Lane", "city": "York",
                                                                       "country": "GB"}}))
    single = api.get("/orders/SO-000002")
    assert single.status_code == 200
    OrderOut.model_validate(single.json)
    assert single.json["lines"][0]["sku"] == "TPT-6CP"

    listing = OrderPage.model_validate(api.get("/orders").json)
    assert [o.number for o in listing.orders] == ["SO-000002", "SO-000001"]
    assert listing.total == 2
    assert [o["number"] for o in api.get("/orders", q="tom baker").json["orders"]] == ["SO-000002"]
    assert [o["number"] for o in api.get("/orders", q="mug-blu").json["orders"]] == ["SO-000001"]
    assert [o["number"] for o in api.get("/orders", q="SO-000001").json["orders"]] == ["SO-000001"]
    assert api.get("/orders", status="confirmed").json["total"] == 2
    assert api.get("/orders", status="shipped").json["total"] == 0
    assert api.get("/orders", page=2).json["orders"] == []


def test_unknown_order_is_404_naming_it(api):
    response = api.get("/orders/SO-999999")
    assert response.status_code == 404
    assert response.json == {"errors": {"number": ["no order SO-999999"]}}


def test_transition_to_shipped_records_carrier_and_moves_stock(api, make_product):
    make_product("MUG-BLU", stock=5)
    api.post("/orders", order_body("MUG-BLU", 2))
    response = api.post("/orders/SO-000001/transitions",
                        {"to": "shipped", "carrier": "Royal Mail", "tracking_number": "RM123456789GB"})
    assert response.status_code == 200, response.json
    body = OrderOut.model_validate(response.json)
    assert (body.status, body.carrier, body.tracking_number) == ("shipped", "Royal Mail", "RM123456789GB")
    shipped = next(event for event in body.events if event.to == "shipped")
    assert shipped.note.startswith("Royal Mail RM123456789GB")
    product = api.get("/products/MUG-BLU").json
    assert (product["on_hand"], product["reserved"]) == (3, 0)


def test_refused_transition_is_409_and_changes_nothing(api, make_product):
    make_product("MUG-BLU", stock=5)
    api.post("/orders", order_body("MUG-BLU", 2))
    response = api.post("/orders/SO-000001/transitions", {"to": "delivered"})
    assert response.status_code == 409
    assert "cannot become delivered" in response.json["errors"]["to"][0]
    order = api.get("/orders/SO-000001").json
    assert order["status"] == "confirmed" and len(order["events"]) == 2


def test_shipping_without_a_carrier_is_422_naming_carrier(api, make_product):
    make_product("MUG-BLU", stock=5)
    api.post("/orders", order_body("MUG-BLU", 1))
    response = api.post("/orders/SO-000001/transitions", {"to": "shipped"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["carrier"]
    assert api.get("/products/MUG-BLU").json["reserved"] == 1


def test_transition_of_unknown_order_is_404(api):
    response = api.post("/orders/SO-404404/transitions", {"to": "cancelled"})
    assert response.status_code == 404


def test_channel_orders_with_unknown_sku_are_held_not_refused(api, make_product):
    make_product("MUG-BLU", stock=5)
    body = order_body("MUG-BLU", 1, channel="shopify")
    body["lines"].append({"sku": "SHOPIFY-ONLY", "quantity": 1, "unit_price": "9.99"})
    response = api.post("/orders", body)
    assert response.status_code == 201
    assert response.json["status"] == "on_hold"
    assert any("Unknown SKU SHOPIFY-ONLY" in reason for reason in response.json["hold_reasons"])
    assert response.json["lines"][1]["known_product"] is False


def test_token_scopes_are_enforced(api, make_user, make_product):
    from webapp.auth.tokens import create_api_token

    reader = create_api_token(make_user(email="reader@example.com", role="staff"), ["orders:read"])
    db.session.commit()
    make_product("MUG-BLU", stock=5)
    response = api.post("/orders", order_body(), token=reader)
    assert response.status_code == 403
    assert "orders:write" in response.json["errors"]["authorization"][0]
    assert api.get("/orders", token=reader).status_code == 200
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_revoked_token_is_401(api, runner):
    assert api.get("/orders").status_code == 200
    prefix = api.token[:12]
    db.session.rollback()  # the test shares its session with the requests; end the read they left open
    result = runner.invoke(args=["tokens", "revoke", prefix])
    assert result.exit_code == 0, result.output
    assert api.get("/orders").status_code == 401
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output


def test_a_token_stops_at_once_however_it_is_changed(api, make_app, make_product):
    """Each process keeps the tokens it verified, but a token revoked, a user switched off or demoted, even by a
    plain SQL UPDATE from another process, is refused on the very next request."""
    from sqlalchemy import update

    from webapp.auth.models import ApiToken, User

    make_product("MUG-BLU", stock=10)
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 201
    other = make_app()  # another web process, sharing the database

    def change(statement):
        db.session.rollback()
        with other.app_context():
            db.session.execute(statement)
            db.session.commit()

    change(update(User).values(role="viewer"))
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 403
    assert api.get("/orders").status_code == 200
    change(update(User).values(role="owner", active=False))
    assert api.get("/orders").status_code == 401
    change(update(User).values(active=True))
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 201
    change(update(ApiToken).values(revoked_at=func.now()))
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 401
    assert api.get("/orders").status_code == 401


def test_writes_record_when_a_token_was_last_used_at_most_once_a_minute(api, make_product):
    from datetime import timedelta

    from sqlalchemy import update

    from webapp.auth.models import ApiToken
    from webapp.timekeeping import utcnow

    make_product("MUG-BLU", stock=10)
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 201
    db.session.rollback()
    first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 201
    db.session.rollback()
    assert db.session.scalar(select(ApiToken.last_used_at)) == first  # used again within the minute: not written
    db.session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert api.post("/orders", order_body("MUG-BLU", 1)).status_code == 201
    db.session.rollback()
    assert db.session.scalar(select(ApiToken.last_used_at)) > first


def test_a_viewer_token_can_only_read(api, make_user, make_product):
    from webapp.auth.tokens import create_api_token

    viewer = make_user(email="accountant@example.com", role="viewer")
    with pytest.raises(ValueError, match="viewer may not hold orders:write"):
        create_api_token(viewer, ["orders:write"])
    staff = make_user(email="helper@example.com", role="staff")
    secret = create_api_token(staff, ["orders:read", "orders:write"])
    db.session.commit()
    make_product("MUG-BLU", stock=5)
    staff.role = "viewer"  # demoted later: the token's write scope stops working
    db.session.commit()
    assert api.post("/orders", order_body(), token=secret).status_code == 403
    assert api.get("/orders", token=secret).status_code == 200


def test_reads_record_when_a_token_was_last_used(api):
    from webapp.auth.models import ApiToken

    assert api.get("/orders").status_code == 200
    db.session.rollback()  # see what the request's own short transaction committed
    token = db.session.scalars(select(ApiToken)).one()
    assert token.last_used_at is not None


def test_missing_token_is_401(api, client):
    assert client.get("/api/v1/orders").status_code == 401
    assert client.get("/api/v1/orders", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/orders", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.get("/api/v1/orders")
    assert response.json == {"errors": {"authorization": ["a valid Bearer token is required"]}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_document_lists_every_route_and_is_public(client, app):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    api_routes = {
        (rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and "openapi" not in rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert api_routes == documented
    for schema in ("OrderIn", "OrderOut", "ProductIn", "Errors"):
        assert schema in document["components"]["schemas"]


def test_stock_counters_equal_ledger_after_api_work(api, make_product):
    make_product("MUG-BLU", stock=10)
    api.post("/orders", order_body("MUG-BLU", 3))
    api.post("/orders", order_body("MUG-BLU", 2, customer={"name": "Other", "email": "o@example.com",
                                                           "address": {"line1": "1", "city": "X", "country": "GB"}}))
    api.post("/orders/SO-000001/transitions", {"to": "shipped", "carrier": "DPD"})
    api.post("/orders/SO-000002/transitions", {"to": "cancelled"})
    api.post("/products/MUG-BLU/stock", {"delta": -1, "reason": "broken in the studio"})
    from tests.test_stock_ledger import assert_ledger_matches

    assert_ledger_matches()
    product = db.session.scalars(select(Product)).one()
    db.session.refresh(product)
    assert (product.on_hand, product.reserved) == (6, 0)
