"""A product's forecast in headless Chromium: start a run, watch the panel poll until the worker is done, see the
chart (Chart.js from package.json) at a phone and a desktop width, then the reorder list. Screenshots go to
SCREENSHOT_DIR (docs/screenshots with `make screenshots`)."""
import pytest
from playwright.sync_api import expect

from tests.test_browser import SCREENSHOTS, VIEWPORTS, chromium_page, sign_in
from tests.test_emails import run_jobs
from tests.test_forecasts import sell, weekly_series
from webapp.extensions import db
from webapp.forecasting.runs import forecast_product
from webapp.timekeeping import shop_today
from worker import redis_connection

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))
def test_forecast_run_and_chart(viewport, make_app, live_server, make_user, make_product):
    shop = make_app(WTF_CSRF_ENABLED=True)
    with shop.app_context():
        redis_connection().flushdb()
        make_user(email="owner@example.com", role="owner")
        mug = make_product(sku="MUG-BLU", name="Blue stoneware mug", stock=60, reorder_point=10)
        mug.lead_time_days, mug.supplier_email = 14, "kiln@supplier.example"
        sell(mug, weekly_series(400, shop_today(), seed=4), shop_today())
        vase = make_product(sku="VAS-BUD", name="Bud vase", stock=200, reorder_point=5)
        sell(vase, [1, 0, 0, 2, 0, 0, 1] * 12, shop_today())
        forecast_product(vase.id)
        db.session.commit()
    server = live_server(shop)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []

    with chromium_page(server, viewport, problems, timeout_ms=15_000) as page:
        sign_in(page)
        page.goto("/products/MUG-BLU")
        panel = page.locator("#forecast")
        expect(panel).to_contain_text("No forecast yet")
        panel.get_by_role("button", name="Forecast now").click()
        expect(panel).to_contain_text("Forecasting:")  # the panel polls itself while the job waits
        with shop.app_context():
            run_jobs()
        expect(panel).to_contain_text("Prophet with weekly seasonality, fitted on 400 days", timeout=20_000)
        expect(panel.locator("canvas[data-chart]")).to_be_visible()
        page.wait_for_function(
            "() => { const c = document.querySelector('#forecast canvas');"
            " return window.Chart && Chart.getChart(c) && Chart.getChart(c).data.datasets.length === 5; }")
        expect(panel).to_contain_text("Reorder by")
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(SCREENSHOTS / f"product-forecast-{viewport}.png"))

        page.goto("/reorder")
        rows = page.locator("#reorder-rows tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Blue stoneware mug")  # the more urgent one first
        page.screenshot(path=str(SCREENSHOTS / f"reorder-list-{viewport}.png"), full_page=True)
    assert problems == []
