"""In headless Chromium, at a phone width and a desktop width: paste a customer's message and confirm the draft
order; import a CSV file with its own column names, dry run first, then for real with the worker doing the job.

Real server (thread), real database, real Redis and a real RQ worker, CSRF checking on; neither page may scroll
sideways on a phone.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser import SCREENSHOTS, VIEWPORTS, chromium_page, sign_in
from tests.test_emails import run_jobs
from webapp.extensions import db
from webapp.imports.models import ImportRun
from webapp.orders.models import Order
from worker import redis_connection

pytestmark = pytest.mark.browser

VIEWPORT_IDS = list(VIEWPORTS)


def assert_no_sideways_scroll(page, where: str) -> None:
    """Nothing on the page is wider than the window (at 390 px a wide table or form pushes the page sideways)."""
    overflow = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap, .scroll'))
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
        return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5)};
    }""")
    assert overflow["scroll"] <= 0, f"{where}: the page scrolls sideways by {overflow['scroll']}px: {overflow['wide']}"


@pytest.fixture
def shop(make_app, live_server, make_user, make_product):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        redis_connection().flushdb()  # no jobs left over from other tests
        make_user(email="owner@example.com", role="owner")
        make_product(sku="MUG-BLU", name="Blue stoneware mug", price="14.00", stock=10)
        make_product(sku="TPT-6CP", name="Six-cup teapot", price="54.00", stock=5)
    return app, live_server(app)


@pytest.mark.parametrize("viewport", VIEWPORT_IDS, ids=VIEWPORT_IDS)
def test_a_pasted_message_becomes_a_checked_corrected_order(viewport, shop):
    app, server = shop
    problems = []
    with chromium_page(server, viewport, problems) as page:
        sign_in(page)
        page.goto("/orders/paste")
        assert_no_sideways_scroll(page, "the empty paste page")

        page.get_by_role("button", name="Read the message").click()  # nothing pasted: told so, nothing read
        expect(page.locator("#paste-form .error")).to_have_text("Paste the customer's message first.")

        page.get_by_label("The customer's email or chat message").fill(
            "Hi! 2 blue mugs and a tepot for Jane Doe, 12 High St, Leeds LS1 4AB, jane@example.com. "
            "Also 3 giraffes if you have them. Thanks!")
        page.get_by_role("button", name="Read the message").click()

        reading = page.locator("#paste-reading")
        expect(reading).to_contain_text("New customer: Jane Doe")
        mugs = reading.locator("tbody tr", has_text="MUG-BLU")
        teapot = reading.locator("tbody tr", has_text="TPT-6CP")
        expect(mugs.locator(".badge-ok")).to_have_text(re.compile(r"^\d+%$"))  # sure of it
        expect(teapot.locator(".badge-low")).to_contain_text("– check")  # "tepot": a guess, to look at
        expect(reading.locator(".paste-unmatched")).to_contain_text("“3 giraffes")
        expect(page.get_by_label("Name", exact=True)).to_have_value("Jane Doe")
        expect(page.get_by_label("Postcode")).to_have_value("LS1 4AB")
        expect(page.locator("#order-totals dd.grand")).to_have_text("£82.00")
        page.screenshot(path=str(SCREENSHOTS / f"paste-draft-{viewport}.png"), full_page=True)
        assert_no_sideways_scroll(page, "the draft")

        page.get_by_label("Quantity of TPT-6CP").fill("2")  # the customer meant two teapots
        expect(page.locator("#order-totals dd.grand")).to_have_text("£136.00")
        page.get_by_role("button", name="Create order").click()

        expect(page).to_have_url(re.compile(r"/orders/SO-\d{6}$"))
        expect(page.locator("main")).to_contain_text("Jane Doe")
        assert_no_sideways_scroll(page, "the new order")
    # The empty message's 422 is the answer the page shows; anything else logged is a fault.
    assert [p for p in problems if "status of 422" not in p] == [] and len(problems) == 1
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert (order.channel, order.status, str(order.total)) == ("paste", "confirmed", "136.00")
        assert sorted((line.sku, line.quantity) for line in order.lines) == [("MUG-BLU", 2), ("TPT-6CP", 2)]
        assert (order.customer.email, order.ship_postcode) == ("jane@example.com", "LS1 4AB")


ODD_COLUMNS = "Ref,Placed,Item code,Units,Each,Buyer,Buyer email\n"
ROWS = ("W-1,2025-03-01,MUG-BLU,2,14.00,Ann Lee,ann@example.com\n"
        "W-1,2025-03-01,TPT-6CP,1,54.00,Ann Lee,ann@example.com\n"
        "W-2,2025-03-02,MUG-BLU,lots,14.00,Bo Chan,bo@example.com\n"
        "W-3,2025-03-03,MUG-BLU,1,14.00,Cy Dale,cy@example.com\n")
MAPPING = {"number": "Ref", "date": "Placed", "sku": "Item code", "quantity": "Units", "unit_price": "Each",
           "customer_name": "Buyer", "customer_email": "Buyer email"}


def _upload(page, csv_path, *, dry_run: bool, mapping: dict | None = None, preset: str | None = None) -> None:
    page.goto("/imports")
    assert_no_sideways_scroll(page, "the import form")
    page.locator('input[type="file"][name="file"]').set_input_files(str(csv_path))
    if preset:  # the saved mapping fills the column names in (an htmx swap of the form)
        page.get_by_label("Saved mapping").select_option(preset)
        expect(page.locator('input[name="map_sku"]')).to_have_value(MAPPING["sku"])
        page.locator('input[type="file"][name="file"]').set_input_files(str(csv_path))  # the swap empties it
    page.get_by_label("Format").select_option("generic")
    if mapping:
        page.locator("#import-form summary").click()
        for field, column in mapping.items():
            page.locator(f'input[name="map_{field}"]').fill(column)
        page.locator('input[name="save_as"]').fill("Web shop")
    page.get_by_label(re.compile("Dry run")).set_checked(dry_run)
    page.get_by_role("button", name="Import").click()


def _work_until_done(app, page) -> None:
    """The page polls its progress while the worker (a real RQ worker, here) does the job, until it is done."""
    expect(page.locator("#import-run [role=status]")).to_contain_text("Reading the file…")
    expect(page.locator("#import-run progress")).to_be_visible()
    with app.app_context():
        run_jobs()
    expect(page.locator("#import-run progress")).to_have_count(0, timeout=15_000)


@pytest.mark.parametrize("viewport", VIEWPORT_IDS, ids=VIEWPORT_IDS)
def test_a_csv_import_with_its_own_columns_dry_runs_then_imports_on_the_worker(viewport, shop, tmp_path):
    app, server = shop
    csv_path = tmp_path / "web-shop-orders.csv"
    csv_path.write_text(ODD_COLUMNS + ROWS)
    problems = []
    with chromium_page(server, viewport, problems) as page:
        sign_in(page)

        _upload(page, csv_path, dry_run=True, mapping=MAPPING)
        expect(page.locator("h1")).to_have_text("Dry run of web-shop-orders.csv")
        _work_until_done(app, page)
        run = page.locator("#import-run")
        expect(run.locator("[role=status]")).to_contain_text("Would import 2 orders, 3 lines")
        expect(run.locator("[role=status]")).to_contain_text("1 skipped rows")
        expect(run.locator("table tbody tr")).to_have_count(2)  # the preview of the first orders
        expect(run.locator("table")).to_contain_text("W-1")
        expect(run.locator("li", has_text="line 4")).to_contain_text("quantity 'lots' is not a whole number")
        page.screenshot(path=str(SCREENSHOTS / f"import-dry-run-{viewport}.png"), full_page=True)
        assert_no_sideways_scroll(page, "the dry run's preview")
        with app.app_context():
            assert db.session.scalars(select(Order)).all() == []

        _upload(page, csv_path, dry_run=False, preset="Web shop")
        expect(page.locator("h1")).to_have_text("Import of web-shop-orders.csv")
        _work_until_done(app, page)
        expect(page.locator("#import-run [role=status]")).to_contain_text("Imported 2 orders, 3 lines")
        assert_no_sideways_scroll(page, "the finished import")

        page.goto("/imports")
        expect(page.locator("main li").first).to_contain_text("done (2 orders, 1 skipped rows)")
    assert problems == []
    with app.app_context():
        assert [run.state for run in db.session.scalars(select(ImportRun).order_by(ImportRun.id))] == ["done", "done"]
        orders = db.session.scalars(select(Order).order_by(Order.external_ref)).all()
        assert [(o.external_ref, o.channel, o.customer.email) for o in orders] == [
            ("W-1", "import", "ann@example.com"), ("W-3", "import", "cy@example.com")]
        assert sorted((line.sku, line.quantity) for line in orders[0].lines) == [("MUG-BLU", 2), ("TPT-6CP", 1)]
