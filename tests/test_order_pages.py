"""The order entry form, the order list and the order page with its actions."""
import re

import pytest
from sqlalchemy import func, select

from tests.factories import order_in_status
from tests.test_api_bad_input import snapshot
from webapp.extensions import db
from webapp.models import Order

HTMX = {"HX-Request": "true"}
GOOD_FORM = {
    "customer_name": "Pat Jones", "customer_email": "pat@example.com", "customer_phone": "",
    "line1": "4 Kiln Yard", "line2": "", "city": "Stoke", "postcode": "ST1 1AA", "country": "gb",
    "shipping": "3.95", "shipping_method": "Standard", "due_date": "", "notes": "Gift wrap please",
    "line_sku": ["MUG-BLU", "TPT-6CP"], "line_qty": ["2", "1"],
}


@pytest.fixture
def shop(app, auth, make_product):
    make_product("MUG-BLU", name="Blue stoneware mug", price="14.00", stock=10)
    make_product("TPT-6CP", name="Six-cup teapot", price="54.00", stock=2, reorder_point=3)
    auth.login()


def test_entry_form_creates_a_confirmed_order(client, shop):
    response = client.post("/orders/new", data=GOOD_FORM)
    assert response.status_code == 303
    order = db.session.scalars(select(Order)).one()
    assert response.headers["Location"] == f"/orders/{order.number}"
    assert (order.status, order.channel, str(order.total)) == ("confirmed", "web", "85.95")
    assert order.customer.email == "pat@example.com" and order.ship_country == "GB"
    assert order.events[0].actor == "owner@example.com"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Six-cup teapot" in page and "£85.95" in page and "Gift wrap please" in page


def test_entry_form_over_htmx_redirects_the_whole_page(client, shop):
    response = client.post("/orders/new", data=GOOD_FORM, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/orders/SO-")


def field_error(html: str, marker: str) -> str:
    """The error text shown with the field whose input or line row carries ``marker`` (an id)."""
    match = re.search(rf'<(?:label|tr)[^>]*has-error[^>]*>(?:(?!</label>|</tr>).)*?{marker}(?:(?!</label>|</tr>).)*',
                      html, re.S)
    assert match, f"no error is shown at {marker}"
    return " ".join(re.findall(r'<small class="error">([^<]*)</small>', match.group(0)))


@pytest.mark.parametrize("changes, marker, message", [
    ({"customer_name": ""}, 'id="f-customer_name"', "must not be empty"),
    ({"line_qty": ["0", "1"]}, 'id="line-qty-0"', "must be greater than 0"),
    ({"line_qty": ["two", "1"]}, 'id="line-qty-0"', "must be a whole number"),
    ({"line_qty": ["1.5", "1"]}, 'id="line-qty-0"', "must be a whole number"),
    ({"line_qty": ["²", "1"]}, 'id="line-qty-0"', "must be a whole number"),
    ({"line_sku": ["MUG-BLU", "GONE-1"]}, 'id="line-qty-1"', "unknown SKU"),
    ({"customer_email": "pat-at-example"}, 'id="f-customer_email"', "not a valid email"),
    ({"country": "England"}, 'id="f-country"', "has the wrong format"),
    ({"shipping": "free"}, 'id="f-shipping"', "must be an amount"),
    ({"due_date": "31/02/2026"}, 'id="f-due_date"', "must be a date"),
])
def test_entry_form_errors_are_inline_and_keep_what_was_typed(client, shop, changes, marker, message):
    before = snapshot()
    response = client.post("/orders/new", data={**GOOD_FORM, **changes}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in field_error(html, marker)
    assert "nothing was saved yet" in html
    for kept in ("4 Kiln Yard", "Stoke", "Gift wrap please"):
        assert kept in html
    assert snapshot() == before


def test_entry_without_lines_says_to_add_a_product(client, shop):
    response = client.post("/orders/new", data={**GOOD_FORM, "line_sku": [], "line_qty": []}, headers=HTMX)
    assert response.status_code == 422
    lines = re.search(r'<div id="order-lines".*?</dl>', response.get_data(as_text=True), re.S).group(0)
    assert "Add at least one product." in lines


def test_product_search_as_you_type(client, shop):
    html = client.get("/orders/new/products", query_string={"product_q": "teap"}, headers=HTMX).get_data(as_text=True)
    assert "Six-cup teapot" in html and "Blue stoneware mug" not in html
    assert "2 left" in html  # at or below its reorder point
    by_sku = client.get("/orders/new/products?product_q=mug-b", headers=HTMX).get_data(as_text=True)
    assert "Blue stoneware mug" in by_sku
    assert "No product matches" in client.get("/orders/new/products?product_q=zzz", headers=HTMX).get_data(as_text=True)
    page = client.get("/orders/new/products?product_q=mug")
    assert "<html" in page.get_data(as_text=True)


def test_adding_and_removing_lines_updates_totals_and_badges(client, shop):
    form = {**GOOD_FORM, "line_sku": ["MUG-BLU"], "line_qty": ["2"]}
    added = client.post("/orders/new/lines", data={**form, "add_sku": "TPT-6CP"}, headers=HTMX).get_data(as_text=True)
    assert added.lstrip().startswith('<div id="order-lines"')
    assert "Six-cup teapot" in added and "£85.95" in added  # 28 + 54 + 3.95
    again = client.post("/orders/new/lines", data={**form, "add_sku": "MUG-BLU"}, headers=HTMX).get_data(as_text=True)
    assert 'value="3"' in again and "£45.95" in again
    too_many = client.post("/orders/new/lines", data={**form, "line_sku": ["TPT-6CP"], "line_qty": ["5"]},
                           headers=HTMX).get_data(as_text=True)
    assert "only 2 available" in too_many
    removed = client.post("/orders/new/lines", data={**form, "remove_line": "0"}, headers=HTMX).get_data(as_text=True)
    assert "MUG-BLU" not in removed and "No products yet" in removed


def test_line_buttons_work_without_javascript(client, shop):
    response = client.post("/orders/new", data={**GOOD_FORM, "add_sku": "MUG-BLU"})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_order_list_search_and_filters(client, shop):
    confirmed = order_in_status("confirmed")
    shipped = order_in_status("shipped")
    html = client.get("/orders").get_data(as_text=True)
    assert confirmed.number in html and shipped.number in html
    only = client.get("/orders?status=shipped", headers=HTMX).get_data(as_text=True)
    assert shipped.number in only and confirmed.number not in only
    assert only.lstrip().startswith('<div id="order-rows"')
    assert confirmed.number in client.get(f"/orders?q={confirmed.customer.name}").get_data(as_text=True)
    bad = client.get("/orders?status=lost&page=x")
    assert bad.status_code == 400 and "not an order status" in bad.get_data(as_text=True)


def test_order_page_shows_lines_totals_address_timeline(client, shop):
    order = order_in_status("confirmed")
    html = client.get(f"/orders/{order.number}").get_data(as_text=True)
    for text in ("Blue stoneware mug", "£28.00", "12 High St", "Timeline", "Order received", "Start packing",
                 "Mark paid"):
        assert text in html
    fragment = client.get(f"/orders/{order.number}", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith("{") is False and '<article id="order-detail"' in fragment
    assert client.get("/orders/SO-424242").status_code == 404


def test_ship_from_the_order_page(client, shop):
    order = order_in_status("processing")
    form = client.get(f"/orders/{order.number}/ship", headers=HTMX).get_data(as_text=True)
    assert 'name="carrier"' in form and 'name="tracking_number"' in form
    assert "<html" in client.get(f"/orders/{order.number}/ship").get_data(as_text=True)
    missing = client.post(f"/orders/{order.number}/transitions", data={"to": "shipped", "carrier": ""})
    assert missing.status_code == 422 and "Say which carrier" in missing.get_data(as_text=True)
    missing_htmx = client.post(f"/orders/{order.number}/transitions", data={"to": "shipped"}, headers=HTMX)
    assert missing_htmx.status_code == 422 and missing_htmx.headers["HX-Retarget"] == "#messages"
    shipped = client.post(f"/orders/{order.number}/transitions",
                          data={"to": "shipped", "carrier": "Evri", "tracking_number": "H00ABC",
                                "next": f"/orders/{order.number}"}, headers=HTMX, follow_redirects=True)
    html = shipped.get_data(as_text=True)
    assert "Evri" in html and "H00ABC" in html and "Mark delivered" in html


def test_refused_action_on_the_order_page_flashes_the_reason(client, shop):
    order = order_in_status("delivered")
    response = client.post(f"/orders/{order.number}/transitions", data={"to": "processing"}, follow_redirects=True)
    assert "cannot become processing" in response.get_data(as_text=True)
    db.session.refresh(order)
    assert order.status == "delivered"


def test_payment_and_notes(client, shop):
    order = order_in_status("confirmed")
    client.post(f"/orders/{order.number}/payment", data={"payment_status": "paid"})
    refused = client.post(f"/orders/{order.number}/payment", data={"payment_status": "bogus"}, follow_redirects=True)
    assert "not a payment status" in refused.get_data(as_text=True)
    client.post(f"/orders/{order.number}/notes", data={"note": "Called the customer"})
    empty = client.post(f"/orders/{order.number}/notes", data={"note": " "}, follow_redirects=True)
    assert "Write something" in empty.get_data(as_text=True)
    db.session.refresh(order)
    assert order.payment_status == "paid"
    assert [e.kind for e in order.events][-2:] == ["payment", "note"]


def test_return_with_or_without_restock_from_the_page(client, shop):
    order = order_in_status("delivered")
    client.post(f"/orders/{order.number}/transitions", data={"to": "returned", "restock": "no"})
    db.session.refresh(order)
    assert order.status == "returned" and order.events[-1].note == "not restocked"


def test_order_list_pages_and_its_query_count_does_not_grow(client, shop, make_product):
    from tests.test_board import count_queries

    make_product("BULK-1", stock=100)
    for _ in range(3):
        order_in_status("confirmed", sku="BULK-1", quantity=1)
    with count_queries() as few:
        client.get("/orders")
    for _ in range(55):
        order_in_status("confirmed", sku="BULK-1", quantity=1)
    with count_queries() as many:
        first = client.get("/orders").get_data(as_text=True)
    assert len(many) == len(few)
    assert "Page 1 of 2" in first and first.count('class="status status-confirmed"') == 50
    second = client.get("/orders?page=2").get_data(as_text=True)
    assert second.count('class="status status-confirmed"') == 8 and "← Newer" in second
