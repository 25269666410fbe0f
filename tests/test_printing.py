"""Print runs: several orders' packing slips or invoices made into one PDF by a real worker."""
import io

import pytest
from pypdf import PdfReader
from rq.job import Job
from sqlalchemy import func, select

from tests.factories import order_in_status
from tests.test_emails import run_jobs
from webapp.extensions import db
from webapp.printing.models import PrintRun
from worker import redis_connection

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(app, auth, make_product):
    redis_connection().flushdb()
    make_product("MUG-BLU", name="Blue stoneware mug", price="14.00", stock=100)
    auth.login()


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_packing_slips_for_selected_orders_in_one_pdf(shop, client):
    orders = [order_in_status("processing", quantity=n) for n in (1, 2, 3)]
    listing = client.get("/orders").get_data(as_text=True)
    assert listing.count('form="print-form"') >= 3
    response = client.post("/prints", data={"kind": "packing_slips", "order": [o.number for o in orders]})
    assert response.status_code == 303 and response.headers["Location"] == "/prints/1"

    waiting = client.get("/prints/1", headers=HTMX).get_data(as_text=True)
    assert "0 of 3" in waiting and 'hx-trigger="load delay:1s"' in waiting
    run_jobs()
    assert Job.fetch("print-run-1", connection=redis_connection()).meta == {"done": 3, "total": 3}
    ready = client.get("/prints/1", headers=HTMX).get_data(as_text=True)
    assert "Download packing slips (PDF)" in ready and "hx-trigger" not in ready

    pdf = client.get("/prints/1.pdf")
    assert pdf.mimetype == "application/pdf"
    texts = pages_text(pdf.data)
    assert len(texts) == 3
    for order, text in zip(orders, texts):
        assert "Packing slip" in text and order.number in text and "Blue stoneware mug" in text
        assert "£" not in text  # no prices on a packing slip
        assert "12 High St" in text


def test_invoices_run_leaves_out_orders_without_an_invoice(shop, client):
    shipped = order_in_status("shipped", quantity=1)  # invoiced when shipped
    confirmed = order_in_status("confirmed", quantity=1)
    client.post("/prints", data={"kind": "invoices", "order": [shipped.number, confirmed.number]})
    run_jobs()
    run = db.session.scalars(select(PrintRun)).one()
    db.session.refresh(run)
    assert run.skipped == [f"{confirmed.number}: no invoice issued"]
    texts = pages_text(client.get(f"/prints/{run.id}.pdf").data)
    assert len(texts) == 1 and "Invoice" in texts[0] and shipped.number in texts[0]
    assert "no invoice issued" in client.get(f"/prints/{run.id}").get_data(as_text=True)


def test_nothing_to_print_is_said_plainly(shop, client):
    confirmed = order_in_status("confirmed", quantity=1)
    client.post("/prints", data={"kind": "invoices", "order": [confirmed.number]})
    run_jobs()
    assert "none of the selected orders has an invoice" in client.get("/prints/1").get_data(as_text=True)
    assert client.get("/prints/1.pdf").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"kind": "packing_slips"}, "Select at least one order"),
    ({"kind": "labels", "order": "SO-000001"}, "not something to print"),
    ({"kind": "invoices", "order": "SO-999999"}, "No such order: SO-999999"),
])
def test_bad_print_requests_are_explained(shop, client, data, message):
    order_in_status("confirmed", quantity=1)
    response = client.post("/prints", data=data, follow_redirects=True)
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert db.session.scalar(select(func.count(PrintRun.id))) == 0


def test_a_single_packing_slip_from_the_order_page(shop, client):
    order = order_in_status("confirmed", quantity=2)
    assert "Packing slip" in client.get(f"/orders/{order.number}").get_data(as_text=True)
    client.post("/prints", data={"kind": "packing_slips", "order": order.number})
    run_jobs()
    assert len(pages_text(client.get("/prints/1.pdf").data)) == 1
    assert client.get("/prints/99").status_code == 404


def test_cards_on_the_board_can_be_selected_for_printing(shop, client):
    order = order_in_status("confirmed", quantity=1)
    html = client.get("/board").get_data(as_text=True)
    assert 'id="print-form"' in html and f'value="{order.number}" form="print-form"' in html


def test_reprinted_invoices_are_the_documents_the_customer_got(shop, client):
    from webapp.settings.models import current_settings

    current_settings().shop_name = "Clay & Co"
    db.session.commit()
    shipped = order_in_status("shipped", quantity=1)
    from webapp.background.dispatch import dispatch_pending

    dispatch_pending()
    run_jobs()  # the invoice PDF is made now
    current_settings().shop_name = "Renamed Pottery Ltd"
    db.session.commit()
    client.post("/prints", data={"kind": "invoices", "order": shipped.number})
    run_jobs()
    text = pages_text(client.get("/prints/1.pdf").data)[0]
    assert "Clay & Co" in text and "Renamed Pottery" not in text
