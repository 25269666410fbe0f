"""Products and stock pages, customers, and settings: forms that say what is wrong and lose nothing."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import order_in_status
from tests.test_api_bad_input import snapshot
from tests.test_stock_ledger import assert_ledger_matches
from webapp.extensions import db
from webapp.models import Customer, Product, StockMovement
from webapp.settings.models import current_settings

HTMX = {"HX-Request": "true"}
PRODUCT = {"sku": "VAS-BUD", "name": "Bud vase", "unit_price": "18.00", "unit_cost": "4.50",
           "reorder_point": "6", "lead_time_days": "10", "supplier_email": "clay@example.com", "active": "on"}


@pytest.fixture
def owner(auth):
    auth.login()


def test_add_and_edit_a_product(client, owner):
    created = client.post("/products/new", data=PRODUCT)
    assert created.status_code == 303 and created.headers["Location"] == "/products/VAS-BUD"
    product = db.session.scalars(select(Product)).one()
    assert (str(product.unit_price), product.reorder_point, product.on_hand) == ("18.00", 6, 0)
    edited = client.post("/products/VAS-BUD/edit", data={**PRODUCT, "name": "Bud vase, speckled", "active": ""})
    assert edited.status_code == 303
    db.session.refresh(product)
    assert (product.name, product.active) == ("Bud vase, speckled", False)
    assert "Bud vase, speckled" in client.get("/products?q=speckled").get_data(as_text=True)
    assert "Bud vase" not in client.get("/products?q=teapot", headers=HTMX).get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"sku": ""}, "sku"), ({"sku": "has spaces"}, "has the wrong format"), ({"name": ""}, "is required"),
    ({"unit_price": "abc"}, "must be an amount"), ({"unit_price": "-3"}, "must be at least 0"),
    ({"reorder_point": "many"}, "must be a whole number"), ({"lead_time_days": "999"}, "must be at most 365"),
    ({"supplier_email": "nobody"}, "not a valid email"),
])
def test_product_form_errors_keep_what_was_typed(client, owner, changes, message):
    before = snapshot()
    response = client.post("/products/new", data={**PRODUCT, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert "Please fix the fields" in html and 'value="clay@example.com"' in html or "nobody" in html
    assert snapshot() == before


def test_duplicate_sku_on_the_form(client, owner, make_product):
    make_product("VAS-BUD")
    response = client.post("/products/new", data=PRODUCT)
    assert response.status_code == 422 and "already used" in response.get_data(as_text=True)


def test_receive_and_adjust_stock_from_the_product_page(client, owner, make_product):
    make_product("MUG-BLU", stock=5)
    received = client.post("/products/MUG-BLU/stock", data={"kind": "receive", "delta": "12", "reason": "PO 77"},
                           headers=HTMX, follow_redirects=True)
    html = received.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="stock-panel"')
    assert '<strong id="on-hand">17</strong>' in html and "PO 77" in html
    client.post("/products/MUG-BLU/stock", data={"kind": "adjust", "delta": "-2", "reason": "chipped"})
    page = client.get("/products/MUG-BLU").get_data(as_text=True)
    assert '<strong id="on-hand">15</strong>' in page and "chipped" in page and "owner@example.com" in page
    assert_ledger_matches()


@pytest.mark.parametrize("data, message", [
    ({"kind": "adjust", "delta": "", "reason": "x"}, "is required"),
    ({"kind": "adjust", "delta": "1.5", "reason": "x"}, "must be a whole number"),
    ({"kind": "adjust", "delta": "3", "reason": ""}, "is required"),
    ({"kind": "adjust", "delta": "-9", "reason": "lost"}, "are not reserved for orders"),
    ({"kind": "receive", "delta": "-1", "reason": "x"}, "must be positive when receiving"),
    ({"kind": "adjust", "delta": "0", "reason": "x"}, "at least one unit"),
    ({"kind": "adjust", "delta": "²", "reason": "x"}, "must be a whole number"),
    ({"kind": "adjust", "delta": "99999999999999999999", "reason": "x"}, "must be a whole number"),
    ({"kind": "steal", "delta": "1", "reason": "x"}, "must be one of"),
])
def test_bad_stock_changes_are_explained(client, owner, make_product, data, message):
    make_product("MUG-BLU", stock=5)
    order_in_status("confirmed", quantity=1)
    before = snapshot()
    response = client.post("/products/MUG-BLU/stock", data=data, headers=HTMX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert snapshot() == before


def test_product_page_shows_counters_and_the_ledger(client, owner, make_product):
    make_product("MUG-BLU", stock=5)
    order = order_in_status("confirmed", quantity=2)
    html = client.get("/products/MUG-BLU").get_data(as_text=True)
    assert '<strong id="reserved">2</strong>' in html and order.number in html
    assert db.session.query(StockMovement).count() == 2
    assert client.get("/products/NOPE").status_code == 404


def test_customer_list_detail_and_edit(client, owner, make_product):
    make_product("MUG-BLU", stock=10)
    order = order_in_status("confirmed")
    customer = order.customer
    listing = client.get(f"/customers?q={customer.email}").get_data(as_text=True)
    assert customer.name in listing and "£28.00" in listing
    detail = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert order.number in detail
    saved = client.post(f"/customers/{customer.id}", data={"name": customer.name, "email": customer.email,
                                                           "blocked": "on", "notes": "Chargeback in 2025"})
    assert saved.status_code == 303
    db.session.refresh(customer)
    assert customer.blocked and customer.notes == "Chargeback in 2025"
    bad = client.post(f"/customers/{customer.id}", data={"name": "", "email": "x"}, headers=HTMX)
    assert bad.status_code == 422 and "is required" in bad.get_data(as_text=True)
    db.session.refresh(customer)
    assert customer.name != ""
    assert client.get("/customers/9999").status_code == 404


def test_settings_change_the_audit(client, owner):
    page = client.get("/settings").get_data(as_text=True)
    assert "review_total_threshold" in page
    form = {"shop_name": "Clay & Co", "currency": "eur", "price_tolerance_percent": "5",
            "review_total_threshold": "250.00", "duplicate_window_minutes": "30", "express_window_days": "1"}
    assert client.post("/settings", data=form).status_code == 303
    settings = current_settings()
    db.session.refresh(settings)
    assert settings.shop_name == "Clay & Co" and settings.currency == "EUR"
    assert str(settings.review_total_threshold) == "250.00"
    assert settings.require_shipping_address is False
    assert settings.service_level_percent == 95 and settings.reorder_cover_days == 30  # the defaults
    reorder = {**form, "service_level_percent": "98.5", "reorder_cover_days": "45", "email_reorder_advice": "on"}
    assert client.post("/settings", data=reorder).status_code == 303
    db.session.refresh(settings)
    assert (settings.service_level_percent, settings.reorder_cover_days) == (Decimal("98.5"), 45)
    assert settings.email_reorder_advice is True


@pytest.mark.parametrize("changes, message", [
    ({"currency": "pounds"}, "has the wrong format"), ({"price_tolerance_percent": "150"}, "at most 100"),
    ({"review_total_threshold": "lots"}, "must be an amount"), ({"duplicate_window_minutes": "-5"}, "at least 0"),
    ({"shop_name": ""}, "is required"), ({"service_level_percent": "100"}, "at most 99.9"),
    ({"service_level_percent": "20"}, "at least 50"), ({"reorder_cover_days": "0"}, "at least 1"),
    ({"reorder_cover_days": "3.5"}, "whole number"),
])
def test_settings_errors_are_named(client, owner, changes, message):
    form = {"shop_name": "Clay & Co", "currency": "GBP", "price_tolerance_percent": "5",
            "review_total_threshold": "250.00", "duplicate_window_minutes": "30", "express_window_days": "1"}
    response = client.post("/settings", data={**form, **changes})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert current_settings().review_total_threshold != 250


def test_customer_search_by_phone(client, owner):
    db.session.add(Customer(name="Phone Only", phone="+447700900555"))
    db.session.commit()
    assert "Phone Only" in client.get("/customers?q=07700 900555").get_data(as_text=True) or \
        "Phone Only" in client.get("/customers?q=7700900555").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/products?page=²", "/products?page=99999999999999999999999", "/customers?page=x",
                                 "/orders?page=-1", "/orders?page=²"])
def test_bad_page_numbers_on_lists_are_named(client, owner, url):
    response = client.get(url)
    assert response.status_code == 400 and "page number" in response.get_data(as_text=True)


@pytest.mark.parametrize("url, status", [
    ("/customers/99999999999999999999999", 404), ("/board/columns/confirmed?offset=²", 400),
    ("/board/columns/confirmed?offset=99999999999999999999", 400), ("/orders?q=%00", 400),
    ("/orders/SO-%00", 400), ("/board?q=" + "x" * 500, 400),
])
def test_odd_addresses_get_a_clear_4xx(client, owner, url, status):
    assert client.get(url).status_code == status


def test_nul_in_a_form_field_is_refused_and_nothing_is_stored(client, owner, make_product):
    make_product("MUG-BLU", stock=5)
    before = snapshot()
    response = client.post("/products/MUG-BLU/stock", data={"kind": "receive", "delta": "1", "reason": "a\x00b"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert snapshot() == before
