"""The dashboard in headless Chromium, at a phone width and a desktop width: every chart drawn by Chart.js, nothing
wider than the screen, no console errors, and charts drawn again after an htmx swap. Saves dashboard-phone.png and
dashboard-desktop.png to SCREENSHOT_DIR (`make screenshots` points it at docs/screenshots/)."""
import random
import re
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.test_browser import SCREENSHOTS, VIEWPORTS, chromium_page, sign_in
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.forecasting.models import DemandForecast, SalesAnomaly
from webapp.orders.intake import take_order
from webapp.orders.models import Order
from webapp.orders.schemas import OrderIn

pytestmark = pytest.mark.browser

FIRST, LAST = date(2026, 10, 5), date(2026, 11, 3)  # 30 days, beside 5 Sep – 4 Oct
PRODUCTS = (("MUG-BLU", "Blue mug", "14.00", "5.20"), ("MUG-GRN", "Green mug", "14.00", "5.20"),
            ("TOTE-NAT", "Natural tote", "18.00", "6.00"), ("CARD-SET", "Card set", "9.50", None),
            ("BOWL-LRG", "Large serving bowl", "32.00", "12.50"), ("VASE-TAL", "Tall vase", "26.00", None))
TOWNS = (("Leeds", "GB"), ("York", "GB"), ("Bristol", "GB"), ("London", "GB"), ("Dublin", "IE"), ("Paris", "FR"),
         ("Lyon", "FR"), ("Berlin", "DE"), ("Amsterdam", "NL"))
CHANNELS = ("web", "web", "web", "shopify", "shopify", "woocommerce", "api", "import")


def _shop_with_two_months_of_sales() -> None:
    """About 140 orders from 30 customers over 5 Sep – 3 Nov, with a few returns and cancellations, ratings,
    an unusual day, two demand shifts and one unusually large order."""
    rng = random.Random(4)
    customers = [(f"Customer {n}", f"customer{n}@example.com", TOWNS[n % len(TOWNS)]) for n in range(30)]
    busy = LAST - timedelta(days=9)  # a market day: the forecast job would have flagged it
    day = FIRST - timedelta(days=30)
    while day <= LAST:
        for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4)) + (7 if day == busy else 0)):
            name, email, (town, country) = customers[min(int(rng.expovariate(0.12)), 29)]
            lines = [{"sku": sku, "quantity": rng.choice((1, 1, 1, 2, 3))}
                     for sku, *_ in rng.sample(PRODUCTS, rng.choice((1, 1, 2)))]
            body = {"customer": {"name": name, "email": email,
                                 "address": {"line1": "1 Test Row", "city": town, "postcode": "X1",
                                             "country": country}},
                    "lines": lines, "channel": rng.choice(CHANNELS)}
            order = take_order(OrderIn.model_validate(body), actor="test")
            order.created_at = datetime.combine(day, time(rng.randrange(7, 21), rng.randrange(60)))
            order.status = rng.choice(("delivered",) * 6 + ("shipped", "confirmed", "cancelled", "returned"))
            if order.status in ("shipped", "delivered", "returned"):
                order.shipped_at = order.created_at + timedelta(hours=rng.randrange(3, 60))
            if order.status == "delivered" and rng.random() < 0.4:
                db.session.add(OrderFeedback(order_id=order.id, rating=rng.choice((3, 4, 4, 5, 5, 5))))
        day += timedelta(days=1)
    big = take_order(OrderIn.model_validate({
        "customer": {"name": "Customer 0", "email": "customer0@example.com"},
        "lines": [{"sku": "BOWL-LRG", "quantity": 12}], "channel": "web"}), actor="test")
    big.created_at, big.status = datetime.combine(LAST - timedelta(days=2), time(11)), "confirmed"
    db.session.flush()
    busy_orders = db.session.scalar(select(func.count(Order.id)).where(
        Order.created_at >= datetime.combine(busy, time.min), Order.created_at < datetime.combine(busy, time.max)))
    db.session.add(SalesAnomaly(day=busy, measure="orders", actual=busy_orders, expected=2.4, lower=0.6, upper=4.8))
    db.session.flush()
    for product in db.session.scalars(select(Product)).all():
        shift = {"TOTE-NAT": 1.9, "CARD-SET": 0.55}.get(product.sku, 1.05)
        db.session.add(DemandForecast(product_id=product.id, as_of=LAST, model="fallback", demand_shift=shift))
    db.session.commit()


def _check_charts(page) -> int:
    """Every canvas on the page holds a Chart.js chart; returns how many."""
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_be_visible()
    count = canvases.count()
    drawn = page.evaluate("() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                          ".map(canvas => window.Chart.getChart(canvas) ? canvas.width : 0)")
    assert len(drawn) == count and all(width > 0 for width in drawn), drawn
    return count


@pytest.mark.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_dashboard_draws_every_chart(viewport, make_app, live_server, make_user, make_product):
    shop = make_app(WTF_CSRF_ENABLED=True)
    with shop.app_context():
        make_user(email="owner@example.com", role="owner")
        for sku, name, price, cost in PRODUCTS:
            make_product(sku=sku, name=name, price=price, stock=2000, cost=cost)
        _shop_with_two_months_of_sales()
    server = live_server(shop)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []

    with chromium_page(server, viewport, problems) as page:
        sign_in(page)
        page.goto(f"/dashboard?from={FIRST.isoformat()}&to={LAST.isoformat()}")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        assert _check_charts(page) == 5  # orders and revenue per day, channels, products, countries
        expect(page.locator("#unusual")).to_contain_text("Natural tote")
        expect(page.locator("#unusual")).to_contain_text("Customer 0")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{viewport}.png"), full_page=True)

        # Another range through the form: htmx swaps the figures in and app.js draws the new charts.
        with page.expect_response(lambda response: "/dashboard?" in response.url and response.status == 200):
            page.locator("input[name=from]").fill((LAST - timedelta(days=6)).isoformat())
        expect(page.locator("#figures")).to_contain_text("compared with 21 Oct – 27 Oct 2026")
        expect(page).to_have_url(re.compile(r"from=2026-10-28"))
        assert _check_charts(page) >= 2

    assert not problems, problems
