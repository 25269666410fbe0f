"""The pages under the Content-Security-Policy in headless Chromium, at a phone and a desktop width: the login
page, the board (with its htmx polls), the dashboard (every chart drawn by Chart.js, again after an htmx swap)
and an order page, with no CSP violation reported, neither as a `securitypolicyviolation` event nor in the
console. A planted inline style at the end proves the listener hears a violation when there is one."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import order_in_status
from tests.test_browser import VIEWPORTS, chromium_page, sign_in
from tests.test_dashboard_browser import _check_charts

pytestmark = pytest.mark.browser

CHARTS_DRAWN = """() => window.Chart && document.querySelectorAll("canvas[data-chart]").length > 0 &&
    Array.from(document.querySelectorAll("canvas[data-chart]")).every((canvas) => window.Chart.getChart(canvas))"""
# Runs in every document before its own scripts (Playwright injects it past the CSP): report each violation.
LISTEN = """document.addEventListener("securitypolicyviolation", (event) => window.reportViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.documentURI}`));"""


@pytest.mark.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_pages_run_under_the_csp_without_a_violation(viewport, make_app, live_server, make_user, make_product):
    shop = make_app(WTF_CSRF_ENABLED=True, BOARD_POLL_SECONDS=1)
    with shop.app_context():
        make_user(email="owner@example.com")
        make_product("MUG-BLU", stock=50, cost="5.00")
        order = order_in_status("confirmed", quantity=3)
        order_in_status("shipped", quantity=2)
        number = order.number
    server = live_server(shop)
    problems, violations, policies = [], [], set()

    with chromium_page(server, viewport, problems) as page:
        page.expose_function("reportViolation", lambda text: violations.append(text))
        page.add_init_script(LISTEN)
        page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(
            f"console: {message.text}"))
        page.on("response", lambda response: policies.add(response.headers.get("content-security-policy")))

        sign_in(page)  # the login page, then the board
        expect(page.locator("#board")).to_be_visible()
        with page.expect_response(lambda response: "/board" in response.url and response.request.headers.get(
                "hx-request") == "true"):
            pass  # one htmx poll of the board, swapped (or answered 304) under the policy

        today = date.today()
        page.goto(f"/dashboard?from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}")
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        page.wait_for_function(CHARTS_DRAWN)
        assert _check_charts(page) >= 2
        with page.expect_response(lambda response: "/dashboard?" in response.url and response.status == 200):
            page.locator("input[name=from]").fill((today - timedelta(days=6)).isoformat())
        expect(page).to_have_url(re.compile("from=" + (today - timedelta(days=6)).isoformat()))  # swapped in
        page.wait_for_function(CHARTS_DRAWN)
        assert _check_charts(page) >= 2  # drawn again by app.js after the swap

        page.goto(f"/orders/{number}")
        expect(page.get_by_role("heading", name=number)).to_be_visible()
        assert not violations, violations

        # The listener works: an inline style attribute (which the policy forbids) is reported.
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">planted</p>')")
        page.wait_for_timeout(200)
        assert any("style-src" in violation for violation in violations), violations

    assert len(policies) == 1 and "'unsafe-inline'" not in policies.pop()  # every response had the same policy
    assert not [problem for problem in problems if "Content Security Policy" not in problem], problems
