"""An order that arrives by webhook keeps what the platform charged: its total to the penny, its tax (per rate on
the invoice), its discounts and shipping, whatever the shop's own tax settings say."""
import copy
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.test_webhooks_in import deliver, ipods, nothing_stored, sample, secrets  # noqa: F401
from webapp.extensions import db
from webapp.invoices.issuing import invoice_html
from webapp.invoices.models import Invoice
from webapp.models import Order, Product
from webapp.settings.models import current_settings

# The platforms' secrets are set, and the three iPods of Shopify's example are in the catalogue.
pytestmark = pytest.mark.usefixtures("secrets", "ipods")


def stored_order() -> Order:
    db.session.expire_all()
    return db.session.scalars(select(Order)).one()


def shop_tax(*, included: bool, rate: str, invoice_on: str = "shipped"):
    """The shop's own tax settings, set opposite to the platform's in the tests below: they must not matter."""
    settings = current_settings()
    settings.prices_include_tax, settings.tax_rate_percent, settings.invoice_on = included, Decimal(rate), invoice_on
    db.session.commit()


def invoice_text() -> str:
    document = db.session.scalars(select(Invoice)).one()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", invoice_html(document)))


def every_sample_order():
    """(id, platform, body, total charged) for each order in the samples, as a webhook would deliver it."""
    shopify = sample("shopify_order.json")
    yield "shopify_order.json", "shopify", shopify, shopify["order"]["total_price"]
    for i, order in enumerate(sample("shopify_orders.json")["orders"]):
        # This list's copy of order #1001 leaves out its line items; a real delivery carries them.
        order = {**order, "line_items": order.get("line_items") or shopify["order"]["line_items"]}
        yield f"shopify_orders.json[{i}]", "shopify", order, order["total_price"]
    woo = sample("woocommerce_order_create_response.json")
    yield "woocommerce_order_create_response.json", "woocommerce", woo, woo["total"]
    for i, order in enumerate(sample("woocommerce_orders_list_response.json")):
        yield f"woocommerce_orders_list_response.json[{i}]", "woocommerce", order, order["total"]


SAMPLE_ORDERS = list(every_sample_order())


@pytest.mark.parametrize("platform, body, total", [case[1:] for case in SAMPLE_ORDERS],
                         ids=[case[0] for case in SAMPLE_ORDERS])
def test_every_sample_order_is_stored_with_the_total_the_platform_charged(client, make_product,
                                                                         platform, body, total):
    shop_tax(included=True, rate="20", invoice_on="confirmed")  # the shop's own rate would give other figures
    make_product("Bar3", price="12.00", stock=5)
    payload = json.loads(json.dumps(body), parse_float=Decimal)
    order_body = payload.get("order", payload)

    assert deliver(client, platform, body).status_code == 201

    order = stored_order()
    assert order.total == Decimal(total)
    assert order.tax == Decimal(order_body["total_tax"])
    assert order.tax_included is order_body.get("taxes_included", order_body.get("prices_include_tax"))
    assert order.currency == order_body["currency"] == "USD"  # not the shop's GBP: the amounts are in dollars
    if order.status == "confirmed":  # the invoice says the same
        invoice = db.session.scalars(select(Invoice)).one()
        assert (invoice.total, invoice.tax) == (order.total, order.tax)


def test_the_sample_list_order_without_line_items_is_refused_naming_them(client):
    assert deliver(client, "shopify", sample("shopify_orders.json")["orders"][0]).status_code == 422
    nothing_stored()


def test_the_invoice_shows_the_platforms_tax_per_rate(client):
    shop_tax(included=True, rate="20", invoice_on="confirmed")
    assert deliver(client, "shopify", sample("shopify_order.json")).status_code == 201

    text = invoice_text()
    assert "State Tax (6%) $11.94" in text and "Total $409.94" in text
    assert "20%" not in text and "Tax included" not in text


def price_ipods(price: str):
    for product in db.session.scalars(select(Product).where(Product.sku.like("IPOD%"))):
        product.unit_price = Decimal(price)
    db.session.commit()


def shopify_order(*, taxes_included: bool, price: str, discount: str, shipping: str, tax: str, total: str):
    order = copy.deepcopy(sample("shopify_order.json")["order"])
    order["line_items"] = order["line_items"][:2]
    order["line_items"][0].update(price=price, quantity=2)
    order["line_items"][1].update(price=price, quantity=1)
    items = str(Decimal(price) * 3)
    order.update(taxes_included=taxes_included, total_line_items_price=items, subtotal_price=items,
                 total_discounts=discount, discount_codes=[{"code": "SPRING10", "amount": discount,
                                                            "type": "percentage"}],
                 total_tax=tax, tax_lines=[{"title": "VAT", "rate": 0.2, "price": tax}], total_price=total,
                 shipping_lines=[{"title": "Royal Mail", "price": shipping, "code": "rm"}])
    return order


def test_a_tax_exclusive_shopify_order_with_a_discount_code_keeps_its_figures(client):
    shop_tax(included=True, rate="5", invoice_on="confirmed")
    price_ipods("100.00")
    # 3 x 100.00 - 30.00 + 10.00 = 280.00, plus 20% VAT on it: 56.00 -> 336.00
    body = shopify_order(taxes_included=False, price="100.00", discount="30.00", shipping="10.00", tax="56.00",
                         total="336.00")
    assert deliver(client, "shopify", body).status_code == 201

    order = stored_order()
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("300.00"), Decimal("30.00"), Decimal("10.00"), Decimal("56.00"), Decimal("336.00"))
    assert order.tax_included is False
    assert "Discount codes: SPRING10 30.00" in order.notes and "add up" not in order.notes
    text = invoice_text()
    assert "Discount −$30.00" in text and "VAT (20%) $56.00" in text and "Total $336.00" in text


def test_a_tax_inclusive_shopify_order_keeps_its_figures(client):
    shop_tax(included=False, rate="5", invoice_on="confirmed")
    price_ipods("120.00")
    # Prices include 20% VAT: 3 x 120.00 - 36.00 + 12.00 = 336.00, of which 56.00 is VAT.
    body = shopify_order(taxes_included=True, price="120.00", discount="36.00", shipping="12.00", tax="56.00",
                         total="336.00")
    assert deliver(client, "shopify", body).status_code == 201

    order = stored_order()
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("360.00"), Decimal("36.00"), Decimal("12.00"), Decimal("56.00"), Decimal("336.00"))
    assert order.tax_included is True
    assert "Tax included: VAT (20%) $56.00" in invoice_text()


def woo_order(*, included: bool) -> dict:
    """Two mugs at 12.00 including 20% VAT (10.00 without), a 10% coupon, 5.00 + VAT shipping."""
    order = copy.deepcopy(sample("woocommerce_order_create_response.json"))
    order["line_items"] = [{**order["line_items"][1], "sku": "MUG", "quantity": 2, "price": 9,
                            "subtotal": "20.00", "subtotal_tax": "4.00", "total": "18.00", "total_tax": "3.60"}]
    order["shipping_lines"][0].update(total="5.00", total_tax="1.00")
    order.update(prices_include_tax=included, discount_total="2.00", discount_tax="0.40", shipping_total="5.00",
                 shipping_tax="1.00", cart_tax="3.60", total_tax="4.60", total="27.60",
                 coupon_lines=[{"id": 1, "code": "tenpercent", "discount": "2.00", "discount_tax": "0.40"}],
                 tax_lines=[{"id": 1, "rate_code": "GB-VAT-1", "rate_id": 1, "label": "VAT", "compound": False,
                             "rate_percent": 20, "tax_total": "3.60", "shipping_tax_total": "1.00"}])
    return order


def test_a_tax_inclusive_woocommerce_order_with_a_coupon_keeps_its_total(client, make_product):
    shop_tax(included=True, rate="20", invoice_on="confirmed")
    make_product("MUG", price="12.00", stock=5)
    assert deliver(client, "woocommerce", woo_order(included=True)).status_code == 201

    order = stored_order()
    # The owner's own prices include VAT, so the order reads in them: 24.00 - 2.40 + 6.00 = 27.60.
    assert [(line.unit_price, line.line_total) for line in order.lines] == [(Decimal("12.00"), Decimal("24.00"))]
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("24.00"), Decimal("2.40"), Decimal("6.00"), Decimal("4.60"), Decimal("27.60"))
    assert order.status == "confirmed"  # the line price is the catalogue's: no price-difference hold
    assert "Coupons: tenpercent" in order.notes and "add up" not in order.notes
    assert "Tax included: VAT (20%) $4.60" in invoice_text()  # in the order's currency, not the shop's


def test_a_tax_exclusive_woocommerce_order_with_a_coupon_keeps_its_total(client, make_product):
    shop_tax(included=True, rate="5")
    make_product("MUG", price="10.00", stock=5)
    assert deliver(client, "woocommerce", woo_order(included=False)).status_code == 201

    order = stored_order()
    assert (order.subtotal, order.discount, order.shipping, order.tax, order.total) == (
        Decimal("20.00"), Decimal("2.00"), Decimal("5.00"), Decimal("4.60"), Decimal("27.60"))
    assert order.lines[0].unit_price == Decimal("10.00") and order.tax_included is False


def test_a_woocommerce_line_that_is_not_whole_cents_per_unit_keeps_its_amount(client, make_product):
    make_product("MUG", price="3.33", stock=5)
    body = woo_order(included=False)
    body["line_items"][0].update(quantity=3, subtotal="10.00", subtotal_tax="0.00", total="10.00", total_tax="0")
    body.update(discount_total="0.00", discount_tax="0.00", shipping_total="0.00", shipping_tax="0.00",
                total_tax="0.00", total="10.00", coupon_lines=[], tax_lines=[])
    assert deliver(client, "woocommerce", body).status_code == 201

    order = stored_order()
    assert (order.lines[0].unit_price, order.lines[0].line_total, order.total) == (
        Decimal("3.33"), Decimal("10.00"), Decimal("10.00"))
    assert "add up" not in order.notes


def test_figures_that_do_not_add_up_are_kept_as_charged_with_a_note(client, make_product):
    make_product("MUG", price="12.00", stock=5)
    body = woo_order(included=True)
    body["total"] = "30.00"  # 2.40 more than the items, coupon, shipping and tax make
    body["tax_lines"][0]["tax_total"] = "3.00"
    assert deliver(client, "woocommerce", body).status_code == 201

    order = stored_order()
    assert order.total == Decimal("30.00")
    assert "WooCommerce's total 30.00 does not add up" in order.notes and "(27.60)" in order.notes
    assert "tax lines add up to 4.00, its total tax is 4.60" in order.notes
    assert any("does not add up" in event.note for event in order.events if event.kind == "note")


def _shopify(change):
    payload = copy.deepcopy(sample("shopify_order.json")["order"])
    change(payload)
    return payload


def _woo(change):
    payload = woo_order(included=True)
    change(payload)
    return payload


BAD_TAX_FIELDS = [
    ("shopify", _shopify(lambda p: p.pop("total_tax")), "total_tax"),
    ("shopify", _shopify(lambda p: p.update(total_tax="lots")), "total_tax"),
    ("shopify", _shopify(lambda p: p.update(total_tax="-1.00")), "total_tax"),
    ("shopify", _shopify(lambda p: p.update(total_tax=True)), "total_tax"),
    ("shopify", _shopify(lambda p: p.pop("taxes_included")), "taxes_included"),
    ("shopify", _shopify(lambda p: p.update(taxes_included="false")), "taxes_included"),
    ("shopify", _shopify(lambda p: p.pop("total_price")), "total_price"),
    ("shopify", _shopify(lambda p: p.update(total_price="1e30")), "total_price"),
    ("shopify", _shopify(lambda p: p.update(total_discounts="-10.00")), "total_discounts"),
    ("shopify", _shopify(lambda p: p.update(total_line_items_price="many")), "total_line_items_price"),
    ("shopify", _shopify(lambda p: p.update(tax_lines="State Tax")), "tax_lines"),
    ("shopify", _shopify(lambda p: p["tax_lines"].append("VAT")), "tax_lines.1"),
    ("shopify", _shopify(lambda p: p["tax_lines"][0].pop("price")), "tax_lines.0.price"),
    ("shopify", _shopify(lambda p: p["tax_lines"][0].update(price="11,94")), "tax_lines.0.price"),
    ("shopify", _shopify(lambda p: p["tax_lines"][0].update(rate="six")), "tax_lines.0.rate"),
    ("shopify", _shopify(lambda p: p["tax_lines"][0].update(rate=6)), "tax_lines.0.rate"),
    ("shopify", _shopify(lambda p: p.update(currency="dollars")), "currency"),
    ("woocommerce", _woo(lambda p: p.pop("total_tax")), "total_tax"),
    ("woocommerce", _woo(lambda p: p.update(total_tax="NaN")), "total_tax"),
    ("woocommerce", _woo(lambda p: p.update(prices_include_tax=None)), "prices_include_tax"),
    ("woocommerce", _woo(lambda p: p.update(prices_include_tax=1)), "prices_include_tax"),
    ("woocommerce", _woo(lambda p: p.update(total="")), "total"),
    ("woocommerce", _woo(lambda p: p.update(discount_total="-2.00")), "discount_total"),
    ("woocommerce", _woo(lambda p: p.update(discount_tax="some")), "discount_tax"),
    ("woocommerce", _woo(lambda p: p.update(shipping_tax="-1")), "shipping_tax"),
    ("woocommerce", _woo(lambda p: p["line_items"][0].update(subtotal="twenty")), "line_items.0.subtotal"),
    ("woocommerce", _woo(lambda p: p["line_items"][0].update(subtotal_tax="-4.00")), "line_items.0.subtotal_tax"),
    ("woocommerce", _woo(lambda p: p["tax_lines"][0].update(tax_total=None)), "tax_lines.0.tax_total"),
    ("woocommerce", _woo(lambda p: p["tax_lines"][0].update(shipping_tax_total="x")),
     "tax_lines.0.shipping_tax_total"),
    ("woocommerce", _woo(lambda p: p["tax_lines"][0].update(rate_percent=150)), "tax_lines.0.rate_percent"),
    ("woocommerce", _woo(lambda p: p.update(shipping_total="9999999999.99")), "shipping_tax"),
    ("woocommerce", _woo(lambda p: p["line_items"].append({**p["line_items"][0], "subtotal": "9999999999.00"})),
     "line_items"),
]


@pytest.mark.parametrize("platform, payload, field", BAD_TAX_FIELDS,
                         ids=[f"{p}-{field}-{i}" for i, (p, _, field) in enumerate(BAD_TAX_FIELDS)])
def test_a_bad_tax_or_total_field_is_refused_naming_it_and_nothing_is_stored(client, make_product,
                                                                           platform, payload, field):
    make_product("MUG", price="12.00", stock=5)
    response = deliver(client, platform, copy.deepcopy(payload))

    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    nothing_stored()
