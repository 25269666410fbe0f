"""Customer insight: lifetime value, rhythm, preferred products and RFM segments checked against a small shop
computed by hand; the segment filter on the customer list; "often bought together" on the order entry form."""
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.test_board import count_queries
from webapp.catalog.models import Product
from webapp.customers.insight import customer_insight, rfm_scores, segment_of
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.intake import take_order
from webapp.orders.schemas import OrderIn
from webapp.orders.together import often_bought_with
from webapp.timekeeping import shop_today, shop_zone

HTMX = {"HX-Request": "true"}
# Five hours behind UTC in winter: a late evening order falls on the next day in UTC, so days are the shop's.
pytestmark = pytest.mark.app_config(SHOP_TIMEZONE="America/New_York")


def days_ago(days: int, hour: int = 12) -> datetime:
    """``hour`` o'clock in the shop's time zone ``days`` before today, as the naive UTC the database stores."""
    local = datetime.combine(shop_today() - timedelta(days=days), time(hour), tzinfo=shop_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def placed(customer: str, lines: dict[str, int], days: int, status: str = "delivered", hour: int = 12):
    """An order of ``lines`` (sku -> quantity) taken through the real intake, then dated and set to ``status``."""
    payload = {"customer": {"name": customer, "email": f"{customer.lower()}@example.com"},
               "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()], "channel": "web"}
    order = take_order(OrderIn.model_validate(payload), actor="test")
    db.session.flush()
    order.status, order.created_at = status, days_ago(days, hour)
    db.session.commit()
    return order


@pytest.fixture
def shop(app, make_product):
    """Six customers with orders, one whose only order was rejected, one who never ordered.

    | customer | orders that count (days ago: lines = total)                      | F | M      | last |
    | -------- | ---------------------------------------------------------------- | - | ------ | ---- |
    | Ann      | 60: 2 A = 20; 40: A + 2 B = 20; 20: 3 A = 30; 2: B + C = 25       | 4 | 95.00  | 2    |
    | Bob      | 90: 2 C = 40; 30: C = 20                                          | 2 | 60.00  | 30   |
    | Cat      | 5: A + B = 15                                                     | 1 | 15.00  | 5    |
    | Dee      | 200: E = 3                                                        | 1 | 3.00   | 200  |
    | Eve      | 150, 120, 100: 3 C = 60 each                                      | 3 | 180.00 | 100  |
    | Fay      | 2: D = 8                                                          | 1 | 8.00   | 2    |
    Ann's and Fay's last orders are on the same day in the shop (23:00 and 01:00), not in UTC.
    Ann also has a cancelled order yesterday (A + 5 E = 25) that must count nowhere; Gus only a rejected one.
    """
    for sku, price in (("A", "10.00"), ("B", "5.00"), ("C", "20.00"), ("D", "8.00"), ("E", "3.00")):
        make_product(sku, name=f"Product {sku}", price=price, stock=1000)
    placed("Ann", {"A": 2}, 60)
    placed("Ann", {"A": 1, "B": 2}, 40)
    placed("Ann", {"A": 3}, 20)
    placed("Ann", {"B": 1, "C": 1}, 2, hour=23)  # the next day in UTC, the same day as Fay's in the shop
    placed("Ann", {"A": 1, "E": 5}, 1, status="cancelled")
    placed("Bob", {"C": 2}, 90)
    placed("Bob", {"C": 1}, 30)
    placed("Cat", {"A": 1, "B": 1}, 5)
    placed("Dee", {"E": 1}, 200)
    for days in (150, 120, 100):
        placed("Eve", {"C": 3}, days)
    placed("Fay", {"D": 1}, 2, hour=1)
    placed("Gus", {"A": 1}, 3, status="rejected")
    db.session.add(Customer(name="Hal", email="hal@example.com"))
    db.session.commit()
    return {c.name: c for c in db.session.scalars(select(Customer))}


# Scores by hand with n = 6 customers who have orders: score = 1 + floor(5 * (2p - 1) / 12), where p is the
# position from worst to best, ties at the middle of their group.
# R (last order, oldest first): Dee 200 (p1 -> 1), Eve 100 (p2 -> 2), Bob 30 (p3 -> 3), Cat 5 (p4 -> 3),
#   Ann and Fay both 2 days ago (p5.5 -> 1 + floor(50/12) = 5).
# F (fewest first): Cat, Dee, Fay with 1 order (p2 -> 2), Bob 2 (p4 -> 3), Eve 3 (p5 -> 4), Ann 4 (p6 -> 5).
# M (least first): Dee 3 (1), Fay 8 (2), Cat 15 (3), Bob 60 (3), Ann 95 (4), Eve 180 (5).
# FM = (F + M + 1) // 2: Ann 5, Bob 3, Cat 3, Dee 2, Eve 5, Fay 2; the segment is the docstring's grid at (R, FM).
EXPECTED_RFM = {
    "Ann": (5, 5, 4, "champions"),
    "Bob": (3, 3, 3, "need_attention"),
    "Cat": (3, 2, 3, "need_attention"),
    "Dee": (1, 2, 1, "lost"),
    "Eve": (2, 4, 5, "cant_lose"),
    "Fay": (5, 2, 2, "potential_loyalists"),
}


def test_rfm_scores_and_segments_match_the_hand_computation(shop):
    rfm = rfm_scores()
    rows = db.session.execute(select(Customer.name, rfm.c.r, rfm.c.f, rfm.c.m, rfm.c.segment)
                              .join(rfm, rfm.c.customer_id == Customer.id)).all()
    assert {name: (r, f, m, segment) for name, r, f, m, segment in rows} == EXPECTED_RFM


def test_the_segment_grid_covers_every_score_pair():
    assert {segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)} == {
        "champions", "loyal", "potential_loyalists", "new", "promising", "need_attention", "at_risk", "cant_lose",
        "hibernating", "lost"}
    assert (segment_of(5, 1), segment_of(4, 1), segment_of(3, 4), segment_of(2, 1)) == \
        ("new", "promising", "loyal", "hibernating")


def test_customers_alike_score_in_the_middle(app, make_product):
    make_product("A", price="10.00", stock=100)
    for name in ("Ann", "Bob", "Cat"):
        placed(name, {"A": 1}, 7)
    rfm = rfm_scores()
    assert set(db.session.execute(select(rfm.c.r, rfm.c.f, rfm.c.m, rfm.c.segment))) == {(3, 3, 3, "need_attention")}


def test_insight_of_a_regular_customer(shop):
    ann = customer_insight(shop["Ann"].id)
    assert (ann.orders, ann.lifetime_value, ann.average_order_value) == (4, Decimal("95.00"), Decimal("23.75"))
    assert (ann.first_order_at, ann.last_order_at) == (days_ago(60), days_ago(2, 23))  # not the cancelled one
    assert ann.days_since_last_order == 2
    assert ann.typical_days_between_orders == 20  # gaps of 20, 20 and 18 days: the median
    assert (ann.r, ann.f, ann.m, ann.segment) == (5, 5, 4, "champions")
    # A: 2 + 1 + 3 units for 60.00; B: 2 + 1 for 15.00; C: 1 for 20.00. E was only in the cancelled order.
    assert [(p.sku, p.units, p.revenue) for p in ann.preferred_products] == [
        ("A", 6, Decimal("60.00")), ("B", 3, Decimal("15.00")), ("C", 1, Decimal("20.00"))]


def test_insight_of_customers_without_orders_that_count(shop):
    for name in ("Gus", "Hal"):
        insight = customer_insight(shop[name].id)
        assert (insight.orders, insight.lifetime_value, insight.segment, insight.r) == (0, 0, "no_orders", None)
        assert insight.preferred_products == [] and insight.typical_days_between_orders is None
    cat = customer_insight(shop["Cat"].id)
    assert (cat.orders, cat.average_order_value, cat.typical_days_between_orders) == (1, Decimal("15.00"), None)


def figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}">(.*?)</div>', html, re.S)
    assert match, f"no {key} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_customer_page_shows_the_insight_and_the_history(shop, client, auth):
    auth.login()
    html = client.get(f"/customers/{shop['Ann'].id}").get_data(as_text=True)
    assert figure(html, "lifetime_value") == "Lifetime value £95.00"
    assert figure(html, "orders") == "Orders 4"
    assert figure(html, "average_order_value") == "Average order £23.75"
    assert figure(html, "segment") == "Segment Champions R 5 · F 5 · M 4"
    assert figure(html, "typical_days_between_orders") == "Typical days between orders 20"
    assert figure(html, "first_order") == "First order " + (shop_today() - timedelta(days=60)).strftime("%d %b %Y")
    assert figure(html, "last_order") == \
        f"Last order {(shop_today() - timedelta(days=2)).strftime('%d %b %Y')} 2 days ago"
    preferred = html[html.index('id="preferred-products"'):]
    preferred = preferred[:preferred.index("</table>")]
    assert re.findall(r'class="sku">(\w+)<', preferred) == ["A", "B", "C"] and "£60.00" in preferred
    history = html[html.index('id="order-history"'):]
    assert len(re.findall(r'href="/orders/(SO-\d+)"', history)) == 5  # the cancelled order is part of the history
    assert "status-cancelled" in history
    hal = client.get(f"/customers/{shop['Hal'].id}").get_data(as_text=True)
    assert figure(hal, "segment") == "Segment No orders yet" and "No orders yet." in hal


def test_order_history_is_paged_newest_first(app, client, auth, make_product):
    auth.login()
    make_product("A", price="10.00", stock=100)
    orders = [placed("Ann", {"A": 1}, days) for days in range(25, 0, -1)]  # oldest first
    customer = orders[0].customer
    first = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    shown = re.findall(r'href="/orders/(SO-\d+)"', first[first.index('id="order-history"'):])
    assert shown == [order.number for order in reversed(orders)][:20]
    assert "Page 1 of 2" in first and f"/customers/{customer.id}?page=2#history" in first
    second = client.get(f"/customers/{customer.id}?page=2").get_data(as_text=True)
    shown = re.findall(r'href="/orders/(SO-\d+)"', second[second.index('id="order-history"'):])
    assert shown == [order.number for order in reversed(orders)][20:]


@pytest.mark.parametrize("page", ["x", "0", "-1", "²", "99999999999999999999"])
def test_a_bad_history_page_number_is_named(shop, client, auth, page):
    auth.login()
    response = client.get(f"/customers/{shop['Ann'].id}?page={page}")
    assert response.status_code == 400 and "page number" in response.get_data(as_text=True)


def listed(html: str) -> dict[str, str]:
    """Customer name -> segment shown in the list."""
    return dict(re.findall(r'/customers/\d+">([^<]+)</a>.*?data-segment="(\w+)"', html, re.S))


def test_customer_list_shows_segments_and_filters_by_them(shop, client, auth):
    auth.login()
    html = client.get("/customers").get_data(as_text=True)
    assert listed(html) == {**{name: segment for name, (_, _, _, segment) in EXPECTED_RFM.items()},
                            "Gus": "no_orders", "Hal": "no_orders"}
    assert '<option value="at_risk"' in html and "Can&#39;t lose" in html
    need = client.get("/customers?segment=need_attention", headers=HTMX)
    assert need.status_code == 200 and need.get_data(as_text=True).lstrip().startswith('<div id="customer-rows"')
    assert listed(need.get_data(as_text=True)) == {"Bob": "need_attention", "Cat": "need_attention"}
    assert set(listed(client.get("/customers?segment=no_orders").get_data(as_text=True))) == {"Gus", "Hal"}
    assert listed(client.get("/customers?segment=need_attention&q=bob").get_data(as_text=True)) == \
        {"Bob": "need_attention"}
    empty = client.get("/customers?segment=new").get_data(as_text=True)
    assert listed(empty) == {} and "No customers match in New." in empty
    page = client.get("/customers?segment=cant_lose").get_data(as_text=True)
    assert '<option value="cant_lose" selected>' in page and list(listed(page)) == ["Eve"]


@pytest.mark.parametrize("query", ["segment=vip", "segment=AT_RISK", "segment=%C2%B2", "segment=" + "x" * 300])
def test_an_unknown_segment_is_a_400_naming_the_field(shop, client, auth, query):
    auth.login()
    response = client.get(f"/customers?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "is not a customer segment; segment must be one of" in html
    assert set(listed(html)) == set(shop)  # the whole list, unfiltered, under the message


def test_the_customer_list_takes_the_same_queries_however_many_customers(shop, app, client, auth):
    auth.login()

    def list_queries(url):
        # A fresh app context, as each request has in production (otherwise it shares the test's session and g).
        with app.app_context(), count_queries() as queries:
            html = client.get(url).get_data(as_text=True)
        return queries, html

    urls = ("/customers", "/customers?segment=need_attention", "/customers?segment=no_orders")
    few = [list_queries(url)[0] for url in urls]
    for n in range(12):
        placed(f"Buyer{n}", {"A": 1 + n % 3, "C": 1}, n + 1)
    many = [list_queries(url) for url in urls]
    assert [len(queries) for queries, _ in many] == [len(queries) for queries in few], (few, many)
    assert all(listed(html) for _, html in many) and len(listed(many[0][1])) == 20


def fill_baskets(make_product):
    """Past orders around a mug (all delivered unless said):

    1: MUG TEA SAU   2: MUG TEA   3: MUG SPN   4: MUG TEA SPN   5-7: MUG OLD (OLD is no longer sold)
    8: MUG CLOTH (cancelled)   9: MUG CLOTH (rejected)   10: TEA CLOTH   11: MUG VAS-1 VAS-2 VAS-3 VAS-4
    """
    for sku in ("MUG", "TEA", "SAU", "SPN", "OLD", "CLOTH", "VAS-1", "VAS-2", "VAS-3", "VAS-4", "LONE"):
        make_product(sku, name=f"Item {sku}", price="4.00", stock=500)
    for n, (skus, status) in enumerate([
        ("MUG TEA SAU", "delivered"), ("MUG TEA", "delivered"), ("MUG SPN", "shipped"), ("MUG TEA SPN", "confirmed"),
        ("MUG OLD", "delivered"), ("MUG OLD", "delivered"), ("MUG OLD", "delivered"),
        ("MUG CLOTH", "cancelled"), ("MUG CLOTH", "rejected"), ("TEA CLOTH", "delivered"),
        ("MUG VAS-1 VAS-2 VAS-3 VAS-4", "delivered"),
    ]):
        placed(f"Buyer{n}", {sku: 1 for sku in skus.split()}, 30 - n, status=status)
    db.session.scalars(select(Product).where(Product.sku == "OLD")).one().active = False
    db.session.commit()


@pytest.fixture
def baskets(app, auth, make_product):
    fill_baskets(make_product)
    auth.login()


def suggested(html: str) -> list[str]:
    match = re.search(r'<section[^>]*id="often-bought-together".*?</section>', html, re.S)
    return re.findall(r'name="add_sku" value="([^"]+)"', match.group(0)) if match else []


def ids(*skus):
    return set(db.session.scalars(select(Product.id).where(Product.sku.in_(skus))))


def test_often_bought_together_ranks_by_shared_orders(baskets):
    # With MUG: TEA in orders 1, 2, 4 (3); SPN in 3, 4 (2); SAU and each VAS in one; CLOTH only in the cancelled
    # and the rejected order; OLD in three but inactive. Ties go by SKU; five at most.
    assert [p.sku for p in often_bought_with(ids("MUG"))] == ["TEA", "SPN", "SAU", "VAS-1", "VAS-2"]
    # With MUG and TEA, both left out: SPN shares orders 3 and 4 (order 4 counts once, though it holds both);
    # CLOTH now counts for order 10 (with TEA).
    assert [p.sku for p in often_bought_with(ids("MUG", "TEA"))] == ["SPN", "CLOTH", "SAU", "VAS-1", "VAS-2"]
    assert [p.sku for p in often_bought_with(ids("LONE"))] == [] and often_bought_with(set()) == []
    mug = ids("MUG")
    with count_queries() as queries:
        often_bought_with(mug)
    assert len(queries) == 1


def test_entry_form_suggests_and_adds_products_bought_together(client, baskets):
    response = client.post("/orders/new/lines", data={"line_sku": ["MUG"], "line_qty": ["1"]}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="order-lines"')
    assert suggested(html) == ["TEA", "SPN", "SAU", "VAS-1", "VAS-2"]
    button = re.search(r'<button[^>]*value="TEA"[^>]*>', html).group(0)
    assert 'hx-post="/orders/new/lines"' in button and 'hx-target="#order-lines"' in button
    # The button sends add_sku like a search result: the line appears and the suggestions follow the lines.
    added = client.post("/orders/new/lines", data={"line_sku": ["MUG"], "line_qty": ["1"], "add_sku": "TEA"},
                        headers=HTMX).get_data(as_text=True)
    assert re.findall(r'name="line_sku" value="([^"]+)"', added) == ["MUG", "TEA"]
    assert suggested(added) == ["SPN", "CLOTH", "SAU", "VAS-1", "VAS-2"]
    removed = client.post("/orders/new/lines", data={"line_sku": ["MUG", "TEA"], "line_qty": ["1", "1"],
                                                     "remove_line": "0"}, headers=HTMX).get_data(as_text=True)
    # With TEA alone: MUG shares orders 1, 2 and 4; CLOTH (10), SAU (1) and SPN (4) one each.
    assert suggested(removed) == ["MUG", "CLOTH", "SAU", "SPN"]
    assert suggested(client.post("/orders/new/lines", data={}, headers=HTMX).get_data(as_text=True)) == []


def test_suggestions_work_without_javascript(client, baskets):
    page = client.post("/orders/new", data={"line_sku": ["MUG"], "line_qty": ["1"], "add_sku": "SPN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert re.findall(r'name="line_sku" value="([^"]+)"', html) == ["MUG", "SPN"]
    assert suggested(html) == ["TEA", "SAU", "VAS-1", "VAS-2", "VAS-3"]
    assert 'form="order-form"' in re.search(r'<button[^>]*value="TEA"[^>]*>', html).group(0)
    assert suggested(client.get("/orders/new").get_data(as_text=True)) == []


@pytest.mark.browser
def test_suggestions_in_a_real_browser(make_app, live_server, make_user, make_product):
    """htmx sends the suggestion's add_sku with the whole form; the lines and the suggestions follow."""
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import PASSWORD
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    shop = make_app(WTF_CSRF_ENABLED=True)
    with shop.app_context():
        make_user(email="owner@example.com")
        fill_baskets(make_product)
    server = live_server(shop)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=server.url)
            page.set_default_timeout(10_000)
            page.goto("/login")
            page.get_by_label("Email").fill("owner@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto("/orders/new")
            page.get_by_label("Name", exact=True).fill("Kept while adding")
            page.locator("#product-q").press_sequentially("MUG", delay=30)
            page.locator("#product-results button.result", has_text="Item MUG").click()
            together = page.locator("#often-bought-together button.result")
            expect(together).to_have_count(5)
            expect(together.first).to_contain_text("Item TEA")
            together.first.click()
            expect(page.locator("#order-lines input[name=line_sku]")).to_have_count(2)
            expect(together.first).to_contain_text("Item SPN")
            expect(page.get_by_label("Name", exact=True)).to_have_value("Kept while adding")
            page.screenshot(path="/tmp/solo-oms-often-bought-together.png", full_page=True)
        finally:
            browser.close()
