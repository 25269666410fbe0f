"""Exports: the shop's records for a range of shop days as CSV, for the owner only."""
from datetime import datetime
from decimal import Decimal

import pytest

from webapp.catalog.models import Product, StockMovement
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.orders.models import Order, OrderLine
from webapp.settings.models import current_settings

D = Decimal


@pytest.fixture
def shop(app):
    """A small shop in London time (British Summer Time in June: UTC+1), with one record just outside the range."""
    current_settings().time_zone = "Europe/London"
    mug = Product(sku="MUG-BLU", name="Blue mug", unit_price=D("14.00"), unit_cost=D("5.50"), on_hand=8,
                  reserved=1, reorder_point=2, lead_time_days=7, created_at=datetime(2026, 1, 5, 9, 0))
    formula = Product(sku="=CMD", name="@risky, \"quoted\"", unit_price=D("2.50"), on_hand=0,
                      created_at=datetime(2026, 1, 5, 9, 0))
    jane = Customer(name="Jane Doe", email="jane@example.com", city="Leeds", country="GB",
                    created_at=datetime(2026, 6, 1, 10, 30))
    late = Customer(name="-Late Larry", email="larry@example.com", created_at=datetime(2026, 6, 30, 23, 30))
    db.session.add_all([mug, formula, jane, late])
    db.session.flush()
    first = Order(number="SO-000001", customer=jane, channel="web", status="shipped", payment_status="paid",
                  currency="GBP", subtotal=D("28.00"), shipping=D("4.00"), tax=D("6.40"), discount=D("0"),
                  total=D("38.40"), created_at=datetime(2026, 6, 1, 10, 30), shipped_at=datetime(2026, 6, 2, 8, 0),
                  carrier="Royal Mail", tracking_number="RM1",
                  lines=[OrderLine(product_id=mug.id, sku="MUG-BLU", name="Blue mug", quantity=2,
                                   unit_price=D("14.00"), line_total=D("28.00"))])
    after = Order(number="SO-000002", customer=late, channel="api", status="confirmed", currency="GBP",
                  subtotal=D("2.50"), total=D("2.50"), created_at=datetime(2026, 6, 30, 23, 30),
                  lines=[OrderLine(product_id=formula.id, sku="=CMD", name="@risky", quantity=1,
                                   unit_price=D("2.50"), line_total=D("2.50"))])
    db.session.add_all([first, after])
    db.session.flush()
    db.session.add_all([
        StockMovement(product_id=mug.id, kind="receive", on_hand_delta=10, reason="opening stock", actor="owner",
                      created_at=datetime(2026, 5, 31, 23, 15)),  # 1 June 00:15 in London: inside
        StockMovement(product_id=mug.id, kind="ship", on_hand_delta=-2, reserved_delta=-2, order_id=first.id,
                      reason="shipped", actor="system", created_at=datetime(2026, 6, 2, 8, 0)),
        Invoice(number="INV-2026-00001", kind="invoice", order_id=first.id, issued_at=datetime(2026, 6, 1, 11, 0),
                currency="GBP", subtotal=D("28.00"), shipping=D("4.00"), tax=D("6.40"), total=D("38.40"),
                tax_rate_percent=D("20.00")),
        Invoice(number="CN-2026-00001", kind="credit_note", order_id=first.id, issued_at=datetime(2026, 6, 3, 9, 0),
                currency="GBP", subtotal=D("10.00"), shipping=D("0.00"), tax=D("2.00"), total=D("12.00"),
                tax_rate_percent=D("20.00")),
        Invoice(number="INV-2026-00002", kind="invoice", order_id=after.id, issued_at=datetime(2026, 6, 5, 9, 0),
                currency="GBP", subtotal=D("2.50"), shipping=D("0.00"), tax=D("0.00"), total=D("2.50"),
                tax_rate_percent=D("0.00")),
    ])
    db.session.commit()


def download(client, name, **params):
    params = {"from": "2026-06-01", "to": "2026-06-30", **params}
    response = client.get(f"/exports/{name}.csv", query_string=params)
    return response, response.get_data(as_text=True)


def test_orders_in_shop_time_with_money_as_decimal_strings(client, auth, shop):
    auth.login()
    response, body = download(client, "orders")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="solo-oms-orders-2026-06-01-2026-06-30.csv"' in response.headers["Content-Disposition"]
    assert body.splitlines() == [
        "order,placed at,customer,email,channel,status,payment status,priority,currency,subtotal,shipping,discount,"
        "tax,total,due date,shipped at,carrier,tracking number,external reference,ship country",
        "SO-000001,2026-06-01 11:30:00,Jane Doe,jane@example.com,web,shipped,paid,standard,GBP,28.00,4.00,0.00,"
        "6.40,38.40,,2026-06-02 09:00:00,Royal Mail,RM1,,",
    ]  # SO-000002 was placed at 00:30 on 1 July in London: outside the range


def test_order_lines_and_customers(client, auth, shop):
    auth.login()
    assert download(client, "order-lines")[1].splitlines() == [
        "order,placed at,status,sku,name,quantity,currency,unit price,line total",
        "SO-000001,2026-06-01 11:30:00,shipped,MUG-BLU,Blue mug,2,GBP,14.00,28.00",
    ]
    assert download(client, "customers", to="2026-07-01")[1].splitlines()[1:] == [
        f"{db.session.scalar(db.select(Customer.id).filter_by(name='Jane Doe'))},2026-06-01 11:30:00,Jane Doe,"
        "jane@example.com,,,,Leeds,,GB,,no,",
        f"{db.session.scalar(db.select(Customer.id).filter_by(email='larry@example.com'))},2026-07-01 00:30:00,"
        "'-Late Larry,larry@example.com,,,,,,,,no,",
    ]


def test_products_and_stock_movements_are_spreadsheet_safe(client, auth, shop):
    auth.login()
    assert download(client, "products")[1].splitlines() == [
        "sku,name,active,unit price,unit cost,on hand,reserved,available,reorder point,lead time days,"
        "supplier email,added at",
        "'=CMD,\"'@risky, \"\"quoted\"\"\",yes,2.50,,0,0,0,0,7,,2026-01-05 09:00:00",
        "MUG-BLU,Blue mug,yes,14.00,5.50,8,1,7,2,7,,2026-01-05 09:00:00",
    ]
    assert download(client, "stock-movements")[1].splitlines() == [
        "at,sku,kind,on hand change,reserved change,order,reason,actor",
        "2026-06-01 00:15:00,MUG-BLU,receive,10,0,,opening stock,owner",
        "2026-06-02 09:00:00,MUG-BLU,ship,-2,-2,SO-000001,shipped,system",
    ]


def test_invoices_with_credit_notes_negative(client, auth, shop):
    auth.login()
    assert download(client, "invoices")[1].splitlines() == [
        "number,kind,issued at,order,customer,currency,tax rate %,subtotal,shipping,tax,total",
        "INV-2026-00001,invoice,2026-06-01 12:00:00,SO-000001,Jane Doe,GBP,20.00,28.00,4.00,6.40,38.40",
        "CN-2026-00001,credit_note,2026-06-03 10:00:00,SO-000001,Jane Doe,GBP,20.00,-10.00,0.00,-2.00,-12.00",
        "INV-2026-00002,invoice,2026-06-05 10:00:00,SO-000002,'-Late Larry,GBP,0.00,2.50,0.00,0.00,2.50",
    ]


def test_accountant_export_totals_per_tax_rate(client, auth, shop):
    auth.login()
    response, body = download(client, "accountant")
    assert response.status_code == 200
    assert body.splitlines() == [
        "number,document,date,order,customer,currency,tax rate %,net,tax,gross",
        "INV-2026-00001,Invoice,2026-06-01,SO-000001,Jane Doe,GBP,20.00,32.00,6.40,38.40",
        "CN-2026-00001,Credit note,2026-06-03,SO-000001,Jane Doe,GBP,20.00,-10.00,-2.00,-12.00",
        "INV-2026-00002,Invoice,2026-06-05,SO-000002,'-Late Larry,GBP,0.00,2.50,0.00,2.50",
        "",
        "Totals per tax rate,,2026-06-01 to 2026-06-30",
        "currency,tax rate %,net,tax,gross",
        "GBP,0.00,2.50,0.00,2.50",
        "GBP,20.00,22.00,4.40,26.40",
    ]


def test_an_empty_range_gives_the_header_and_zero_totals(client, auth, shop):
    auth.login()
    assert download(client, "orders", **{"from": "2020-01-01", "to": "2020-01-31"})[1].splitlines()[1:] == []
    assert download(client, "accountant", **{"from": "2020-01-01", "to": "2020-01-31"})[1].splitlines()[-1] == \
        "currency,tax rate %,net,tax,gross"


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "0001-01-01"}, "from"),
    ({"from": "2026-06-30", "to": "2026-06-01"}, "to"),
])
def test_bad_dates_are_refused_naming_the_field(client, auth, shop, params, field):
    auth.login()
    response, body = download(client, "orders", **params)
    assert response.status_code == 400
    assert body.startswith(f"{field}: ")
    page = client.get("/exports", query_string=params)
    assert page.status_code == 400
    assert f"{field}: " in page.get_data(as_text=True)


def test_control_characters_in_a_date_are_refused(client, auth, shop):
    auth.login()
    assert download(client, "orders", **{"from": "2026-06-01\x00"})[0].status_code == 400


def test_the_page_links_every_export_for_the_range(client, auth, shop):
    auth.login()
    page = client.get("/exports?from=2026-06-01&to=2026-06-30").get_data(as_text=True)
    for name in ("orders", "order-lines", "customers", "products", "stock-movements", "invoices", "accountant"):
        assert f"/exports/{name}.csv?from=2026-06-01&amp;to=2026-06-30" in page
    assert client.get("/exports/secrets.csv").status_code == 404


def test_staff_may_not_export(client, auth, shop):
    auth.login(email="staff@example.com", role="staff")
    assert client.get("/exports").status_code == 403
    assert client.get("/exports/orders.csv").status_code == 403
    assert "/exports" not in client.get("/board").get_data(as_text=True).split("<main")[0]


def test_the_accountant_downloads_the_exports(client, auth, shop):
    """A viewer (the accountant) already reads every order and invoice; the CSVs are the same records."""
    auth.login(email="accountant@example.com", role="viewer")
    assert "/exports" in client.get("/board").get_data(as_text=True).split("<main")[0]
    with client.get("/exports/accountant.csv?from=2026-06-01&to=2026-06-30") as response:
        assert response.status_code == 200 and response.mimetype == "text/csv"


def test_signed_out_visitors_are_sent_to_sign_in(client, shop):
    assert client.get("/exports/orders.csv").status_code == 302


def test_an_export_is_streamed_not_built_in_memory(app, make_user, shop):
    from flask_login import login_user

    from webapp.exports.routes import download as download_view

    owner = make_user()
    with app.test_request_context("/exports/orders.csv?from=2026-06-01&to=2026-06-30"):
        login_user(owner)
        response = download_view(table="orders")
        assert response.is_streamed
        chunks = list(response.response)
    assert len(chunks) == 2  # the header, then one line per order as it is read
