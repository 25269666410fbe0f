"""End to end in headless Chromium: sign in, enter an order, move it across the board to shipped.

Runs against a real server (thread) on the real test database with CSRF checking on, at a phone width and a
desktop width, and saves screenshots to docs/screenshots/.
"""
import os
import re
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.intake import take_order
from webapp.orders.models import Order
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import transition

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# `make screenshots` refreshes the README's pictures in docs/screenshots; a plain test run keeps its own.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.gettempdir() + "/solo-oms-screenshots")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
BOARD_COLUMNS = ("attention", "confirmed", "processing", "shipped")


@contextmanager
def chromium_page(server, viewport: str, problems: list, timeout_ms: int = 10_000):
    """A page in headless Chromium at ``viewport``'s size, recording console errors and uncaught page errors."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=server.url)
            context.set_default_timeout(timeout_ms)
            page = context.new_page()
            page.on("console", lambda message: message.type == "error" and problems.append(
                f"console: {message.text} ({message.location})"))
            page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
            yield page
        finally:
            browser.close()


def sign_in(page, email: str = "owner@example.com") -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/board"))


def _extra_orders() -> None:
    """A few orders from other customers so the board looks like a working day (none touch MUG-BLU)."""
    def order(name, email, lines, **extra):
        body = {"customer": {"name": name, "email": email,
                             "address": {"line1": "1 Test Row", "city": "York", "postcode": "YO1 7HH",
                                         "country": "GB"}},
                "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]} | extra
        placed = take_order(OrderIn.model_validate(body), actor="test")
        db.session.flush()
        return placed

    order("Priya Shah", "priya@example.com", [("TOTE-NAT", 1)])
    order("Tom Baker", "tom@example.com", [("TOTE-NAT", 2), ("MUG-GRN", 1)], shipping_method="Express")
    order("Ana Lima", "ana@example.com", [("CARD-SET", 5)])  # more than in stock: on hold
    packing = order("Sam Cole", "sam@example.com", [("MUG-GRN", 2)], shipping="3.95")
    transition(packing, "processing", actor="test")
    shipped = order("Lee Park", "lee@example.com", [("TOTE-NAT", 1)])
    transition(shipped, "processing", actor="test")
    transition(shipped, "shipped", actor="test", carrier="Royal Mail", tracking_number="RM000111222GB")
    db.session.commit()


def _amount(text):
    """An amount as shown on a page, with or without the pound sign."""
    return re.compile(rf"^\s*£?{re.escape(text)}\s*$")


def _column(page, key):
    return page.locator(f'#board .column[data-column="{key}"]')


def _open_tab(page, phone, key, title):
    """On a phone, show one board column through its tab (an htmx link); on a desktop they all show."""
    if phone:
        page.locator("#board .tabs a.tab", has_text=title).click()
        expect(page.locator("#board .tabs a.tab.active")).to_contain_text(title)
        expect(page).to_have_url(re.compile(rf"/board\?(.*&)?tab={key}"))
    expect(_column(page, key)).to_be_visible()


@pytest.mark.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_order_from_entry_to_shipped(viewport, make_app, live_server, make_user, make_product):
    phone = viewport == "phone"
    shop = make_app(WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=1)
    with shop.app_context():
        make_user(email="owner@example.com", role="owner")
        make_product(sku="MUG-BLU", name="Blue mug", price="14.00", stock=10)
        make_product(sku="MUG-GRN", name="Green mug", price="14.00", stock=8)
        make_product(sku="TOTE-NAT", name="Natural tote", price="18.00", stock=15)
        make_product(sku="CARD-SET", name="Card set", price="9.50", stock=3)
        _extra_orders()
    server = live_server(shop)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    problems = []  # console errors and uncaught page errors, over the whole run
    board_gets = []  # (status, If-None-Match set by the page) for every htmx GET of the board

    def on_console(message):
        if message.type == "error":
            problems.append(f"console: {message.text} ({message.location})")

    def on_response(response):
        request = response.request
        if (re.search(r"/board(\?|$)", response.url) and request.method == "GET"
                and request.headers.get("hx-request") == "true"):
            # request.headers are what the page set; If-None-Match added by Chromium's own HTTP cache is not
            # there (and the XHR would see that cache's 200, not a 304).
            board_gets.append((response.status, request.headers.get("if-none-match")))

    def conditional_poll_answered_304(response):
        return (re.search(r"/board(\?|$)", response.url) is not None and response.status == 304
                and response.request.headers.get("if-none-match") is not None)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=server.url)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
            page.on("response", on_response)

            # Sign in.
            page.goto("/login")
            page.get_by_label("Email").fill("owner@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(re.compile(r"/board$"))

            # Order entry through the nav link.
            page.locator("nav.nav").get_by_role("link", name="+ Order").click()
            expect(page).to_have_url(re.compile(r"/orders/new$"))
            expect(page.get_by_role("heading", name="New order")).to_be_visible()

            page.locator("#product-q").press_sequentially("mug", delay=30)
            result = page.locator("#product-results button.result", has_text="MUG-BLU")
            expect(result).to_be_visible()
            expect(page.locator("#product-results button.result")).to_have_count(2)  # blue and green mugs
            result.click()
            quantity = page.locator("#order-lines input[name=line_qty]")
            expect(quantity).to_have_count(1)
            expect(quantity).to_have_value("1")
            expect(page.locator("#order-totals .grand")).to_have_text(_amount("14.00"))
            quantity.fill("2")
            expect(page.locator("#order-totals .grand")).to_have_text(_amount("28.00"))
            expect(page.locator("#order-lines input[name=line_qty]")).to_have_value("2")

            page.get_by_label("Name", exact=True).fill("Maria Garcia")
            page.get_by_label("Email", exact=True).fill("maria@example.com")
            page.get_by_label("Street", exact=True).fill("22 Mill Lane")
            page.get_by_label("Town or city", exact=True).fill("Bristol")
            page.get_by_label("Country (2 letters)", exact=True).fill("GB")
            page.screenshot(path=str(SCREENSHOTS / f"order-form-{viewport}.png"), full_page=True)

            page.get_by_role("button", name="Create order").click()
            expect(page).to_have_url(re.compile(r"/orders/SO-\d+$"))
            number = page.url.rsplit("/", 1)[1]
            heading = page.locator("#order-detail h1")
            expect(heading).to_contain_text(number)
            expect(heading.locator(".status")).to_have_text("Confirmed")
            expect(page.locator("#messages")).to_contain_text(f"Order {number} created: confirmed.")

            # The board.
            page.locator("nav.nav").get_by_role("link", name="Board", exact=True).click()
            expect(page).to_have_url(re.compile(r"/board$"))
            card = page.locator(f"#card-{number}")
            columns = [_column(page, key) for key in BOARD_COLUMNS]
            if phone:
                expect(page.locator("#board .tabs")).to_be_visible()
                _open_tab(page, phone, "confirmed", "To pack")
                for key, column in zip(BOARD_COLUMNS, columns):
                    if key == "confirmed":
                        expect(column).to_be_visible()
                    else:
                        expect(column).to_be_hidden()
            else:
                expect(page.locator("#board .tabs")).to_be_hidden()
                for column in columns:
                    expect(column).to_be_visible()
                boxes = [column.bounding_box() for column in columns]
                assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes), boxes
                assert len({round(box["y"]) for box in boxes}) == 1, f"columns are not side by side: {boxes}"
            expect(_column(page, "confirmed").locator(f"#card-{number}")).to_be_visible()

            # The board polls with the ETag it was given and gets 304 while nothing changes.
            try:
                with page.expect_response(conditional_poll_answered_304, timeout=10_000):
                    pass
            except PlaywrightTimeoutError:
                pytest.fail(f"no board poll sent If-None-Match and got a 304 in 10 s; board GETs: {board_gets}")

            # To pack -> Packing.
            card.get_by_role("button", name="Start packing").click()
            if phone:
                expect(_column(page, "confirmed").locator(f"#card-{number}")).to_have_count(0)
                _open_tab(page, phone, "processing", "Packing")
            expect(_column(page, "processing").locator(f"#card-{number}")).to_be_visible()
            expect(card.locator(".status")).to_have_text("Processing")

            # Packing -> Shipped today, with the inline ship form.
            card.get_by_role("link", name="Ship…").click()
            ship_form = card.locator("form.ship-form")
            expect(ship_form).to_be_visible()
            ship_form.get_by_label("Carrier").fill("Royal Mail")
            ship_form.get_by_label("Tracking number").fill("RM123456785GB")
            ship_form.get_by_role("button", name="Mark shipped").click()
            if phone:
                expect(_column(page, "processing").locator(f"#card-{number}")).to_have_count(0)
                _open_tab(page, phone, "shipped", "Shipped today")
            shipped_card = _column(page, "shipped").locator(f"#card-{number}")
            expect(shipped_card).to_be_visible()
            expect(shipped_card).to_contain_text("RM123456785GB")
            expect(shipped_card.locator(".status")).to_have_text("Shipped")
            expect(page.locator("#messages")).to_contain_text(f"{number} is now shipped.")

            # The board screenshot, on the tab with the most cards on a phone.
            if phone:
                _open_tab(page, phone, "confirmed", "To pack")
            page.screenshot(path=str(SCREENSHOTS / f"board-{viewport}.png"), full_page=True)

            # The order page tells the same story.
            page.goto(f"/orders/{number}")
            expect(page.locator("#order-detail h1 .status")).to_have_text("Shipped")
            expect(page.locator("#order-detail")).to_contain_text("RM123456785GB")
            if not phone:
                page.screenshot(path=str(SCREENSHOTS / "order-detail-desktop.png"), full_page=True)
            context.close()
        finally:
            browser.close()

    assert not problems, problems

    with shop.app_context():
        order = db.session.scalars(select(Order).where(Order.number == number)).one()
        assert order.status == "shipped"
        assert order.carrier == "Royal Mail"
        assert order.tracking_number == "RM123456785GB"
        assert order.shipped_at is not None
        assert order.total == Decimal("28.00")
        assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-BLU", 2)]
        mug = db.session.scalars(select(Product).where(Product.sku == "MUG-BLU")).one()
        assert (mug.on_hand, mug.reserved) == (8, 0)
