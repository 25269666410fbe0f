"""Answers that cross on the board, made to cross on purpose (the browser holds a request until the other answer is
in), rather than hoped for under load: test_order_from_entry_to_shipped[phone] once failed on
`htmx:oobErrorNoTarget` when a board poll and a card action crossed."""
import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import _column, chromium_page, sign_in
from webapp.extensions import db
from webapp.orders.intake import take_order
from webapp.orders.schemas import OrderIn

pytestmark = pytest.mark.browser


def place_order(name: str, email: str) -> str:
    body = {"customer": {"name": name, "email": email,
                         "address": {"line1": "1 Test Row", "city": "York", "postcode": "YO1 7HH", "country": "GB"}},
            "lines": [{"sku": "MUG-BLU", "quantity": 1}]}
    order = take_order(OrderIn.model_validate(body), actor="test")
    db.session.commit()
    return order.number


def wait_for(page, check, what: str) -> None:
    """Let the page run (and Playwright dispatch its events) until ``check()`` holds."""
    for _ in range(400):
        if check():
            return
        page.wait_for_timeout(25)
    pytest.fail(f"gave up waiting for {what}")


def test_answers_that_cross_on_the_board_land_on_the_board_with_their_messages(make_app, live_server, make_user,
                                                                                make_product):
    shop = make_app(WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=1)
    with shop.app_context():
        make_user(email="owner@example.com", role="owner")
        make_product(sku="MUG-BLU", name="Blue mug", price="14.00", stock=10)
        first = place_order("Maria Garcia", "maria@example.com")
    server = live_server(shop)
    problems = []
    with chromium_page(server, "desktop", problems) as page:
        sign_in(page)
        expect(_column(page, "confirmed").locator(f"#card-{first}")).to_be_visible()

        # 1. A card action whose answer comes after a poll replaced the board. The action is held in the browser
        # while another order arrives and a poll swaps in the board showing it; then the action goes on, and its
        # answer (the board, with "... is now processing." out of band) finds its board gone from the page.
        held = []
        page.route(re.compile(r"/orders/[^/]+/transitions$"), lambda route: held.append(route))
        page.locator(f"#card-{first}").get_by_role("button", name="Start packing").click()
        wait_for(page, lambda: held, "the card action to be sent")
        with shop.app_context():
            second = place_order("Tom Baker", "tom@example.com")
        expect(_column(page, "confirmed").locator(f"#card-{second}")).to_be_visible()  # a poll replaced the board
        held[0].continue_()
        expect(page.locator("#messages")).to_contain_text(f"{first} is now processing.")
        expect(_column(page, "processing").locator(f"#card-{first}")).to_be_visible()
        page.unroute(re.compile(r"/orders/[^/]+/transitions$"))

        # 2. A poll whose answer comes after a card action replaced the board: it is older than what is on screen
        # and must not put the card back where it was.
        polls = []

        def hold_one_poll(route):
            if route.request.headers.get("hx-trigger") == "board" and not polls:
                polls.append(route)
            else:
                route.continue_()

        page.route(re.compile(r"/board(\?|$)"), hold_one_poll)
        wait_for(page, lambda: polls, "a board poll to be sent")
        page.locator(f"#card-{second}").get_by_role("button", name="Start packing").click()
        expect(page.locator("#messages")).to_contain_text(f"{second} is now processing.")
        polls[0].continue_()
        page.wait_for_function("() => !document.querySelector('#board.htmx-request')")
        expect(_column(page, "processing").locator(f"#card-{second}")).to_be_visible()
        expect(_column(page, "confirmed").locator(f"#card-{second}")).to_have_count(0)
        page.unroute(re.compile(r"/board(\?|$)"))

    assert not problems, problems
