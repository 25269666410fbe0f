"""Invoices: gapless numbers, PDFs made by a real worker and read back, credit notes, downloads, settings."""
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import order_body
from tests.factories import order_in_status
from tests.test_emails import inbox, run_jobs  # noqa: F401 - the SMTP fixture and the in-process worker
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.orders.workflow import set_payment_status
from webapp.settings.models import current_settings
from worker import redis_connection


def tiny_png(width=8, height=8) -> bytes:
    """A real PNG image (a brown square), made here so no binary file is checked in."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x8b\x5a\x2b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def shop(app, make_product):
    redis_connection().flushdb()
    settings = current_settings()
    settings.shop_name = "Clay & Co"
    settings.shop_address = "4 Kiln Yard\nStoke-on-Trent ST1 1AA"
    settings.tax_id = "GB123456789"
    settings.payment_details = "Bank transfer to 12-34-56 00112233"
    settings.invoice_footer = "Thank you for buying handmade."
    db.session.commit()
    make_product("MUG-BLU", name="Blue stoneware mug", price="14.00", stock=500)
    return settings


def test_shipping_issues_the_invoice_and_the_worker_makes_its_pdf(shop, client, auth):
    order = order_in_status("shipped", quantity=2)
    invoice = db.session.scalars(select(Invoice)).one()
    year = invoice.issued_at.year
    assert (invoice.number, invoice.kind, str(invoice.total)) == (f"INV-{year}-00001", "invoice", "28.00")
    assert invoice.pdf_rendered_at is None
    auth.login()
    pending = client.get(f"/orders/{order.number}/documents", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "making the PDF" in pending and 'hx-trigger="load delay:1s"' in pending
    assert client.get(f"/documents/{invoice.number}.pdf").status_code == 404

    from webapp.background.dispatch import dispatch_pending

    dispatch_pending()
    run_jobs()
    db.session.expire_all()
    ready = client.get(f"/orders/{order.number}/documents", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Download PDF" in ready and "hx-trigger" not in ready
    response = client.get(f"/documents/{invoice.number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"{invoice.number}.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for expected in (f"INV-{year}-00001", order.number, "Blue stoneware mug", "MUG-BLU", "£14.00", "£28.00",
                     "Clay & Co", "4 Kiln Yard", "GB123456789", "12-34-56 00112233", "Thank you for buying handmade",
                     order.customer.name, "12 High St"):
        assert expected in text, expected


def test_the_api_serves_the_pdf_once_issued(shop, api):
    api.post("/orders", order_body("MUG-BLU", 1))
    assert api.get("/orders/SO-000001/invoice.pdf").json == {"errors": {"invoice": ["SO-000001 has no invoice yet"]}}
    api.post("/orders/SO-000001/transitions", {"to": "shipped", "carrier": "DPD"})
    waiting = api.get("/orders/SO-000001/invoice.pdf")
    assert waiting.status_code == 404 and waiting.headers["Retry-After"] == "5"
    run_jobs()
    response = api.get("/orders/SO-000001/invoice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "INV-" in pdf_text(response.data)
    assert api.get("/orders/SO-404/invoice.pdf").status_code == 404


def test_the_customer_gets_the_invoice_by_email_with_the_pdf(shop, app, inbox):  # noqa: F811
    app.config.update(SMTP_URL=inbox.url)
    order = order_in_status("shipped", quantity=1)
    from webapp.background.dispatch import dispatch_pending

    dispatch_pending()
    run_jobs()  # renders the PDF, which queues the email
    run_jobs()
    invoice_mail = [m["message"] for m in inbox.wait_for(3) if m["message"]["Subject"].startswith("Invoice")]
    assert len(invoice_mail) == 1
    attachment = next(invoice_mail[0].iter_attachments())
    assert attachment.get_filename().startswith("INV-") and attachment.get_content_type() == "application/pdf"
    assert order.number in pdf_text(attachment.get_content())


def test_a_refund_issues_a_credit_note_that_names_the_invoice(shop):
    order = order_in_status("shipped", quantity=1)
    set_payment_status(order, "paid", actor="owner")
    set_payment_status(order, "refunded", actor="owner")
    db.session.commit()
    documents = db.session.scalars(select(Invoice).order_by(Invoice.id)).all()
    assert [(d.kind, d.number[:3]) for d in documents] == [("invoice", "INV"), ("credit_note", "CN-")]
    from webapp.invoices.issuing import render_invoice

    render_invoice(documents[1].id)
    text = pdf_text(documents[1].pdf)
    assert "Credit note" in text and documents[0].number in text and "Credited" in text


def test_manual_invoicing_and_refusals(shop, client, auth):
    shop.invoice_on = "manual"
    db.session.commit()
    auth.login()
    shipped = order_in_status("shipped", quantity=1)
    assert db.session.scalars(select(Invoice)).all() == []
    response = client.post(f"/orders/{shipped.number}/invoice", follow_redirects=True)
    assert "issued; its PDF is being made" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Invoice)).all()) == 1
    client.post(f"/orders/{shipped.number}/invoice")  # again: still one invoice
    assert len(db.session.scalars(select(Invoice)).all()) == 1
    cancelled = order_in_status("cancelled", quantity=1)
    refused = client.post(f"/orders/{cancelled.number}/invoice", follow_redirects=True)
    assert "cannot be invoiced" in refused.get_data(as_text=True)
    no_refund = client.post(f"/orders/{shipped.number}/credit-note", follow_redirects=True)
    assert "not refunded" in no_refund.get_data(as_text=True)


def test_confirming_can_issue_the_invoice(shop):
    shop.invoice_on = "confirmed"
    db.session.commit()
    order_in_status("confirmed", quantity=1)
    assert db.session.scalars(select(Invoice.kind)).all() == ["invoice"]


def test_tax_included_in_prices_is_shown_on_the_invoice(shop):
    shop.tax_rate_percent = Decimal("20")
    db.session.commit()
    order = order_in_status("shipped", quantity=3)  # 42.00 including 7.00 tax
    assert (str(order.total), str(order.tax)) == ("42.00", "7.00")
    invoice = db.session.scalars(select(Invoice)).one()
    from webapp.invoices.issuing import render_invoice

    render_invoice(invoice.id)
    text = pdf_text(invoice.pdf)
    assert "Tax included (20%)" in text and "£7.00" in text


def test_tax_on_top_of_prices(shop):
    shop.tax_rate_percent = Decimal("20")
    shop.prices_include_tax = False
    db.session.commit()
    order = order_in_status("confirmed", quantity=3)  # 42.00 + 8.40 tax
    assert (str(order.tax), str(order.total)) == ("8.40", "50.40")


def test_logo_upload_is_checked_and_printed(shop, client, auth):
    auth.login()
    form = {"shop_name": "Clay & Co", "currency": "GBP", "price_tolerance_percent": "10",
            "review_total_threshold": "1000", "duplicate_window_minutes": "60", "express_window_days": "2",
            "invoice_on": "shipped", "paper_size": "Letter"}
    bad = client.post("/settings", data={**form, "logo": (io.BytesIO(b"not an image"), "logo.png")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "must be a PNG or JPEG" in bad.get_data(as_text=True)
    ok = client.post("/settings", data={**form, "logo": (io.BytesIO(tiny_png()), "logo.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 303
    order_in_status("shipped", quantity=1)
    invoice = db.session.scalars(select(Invoice)).one()
    from webapp.invoices.issuing import render_invoice

    render_invoice(invoice.id)
    page = PdfReader(io.BytesIO(invoice.pdf)).pages[0]
    assert len(page.images) == 1
    assert round(float(page.mediabox.width)) == 612  # Letter, in points


@pytest.mark.parametrize("changes, message", [
    ({"invoice_on": "sometimes"}, "must be one of"), ({"paper_size": "A3"}, "must be one of"),
    ({"tax_rate_percent": "-5"}, "at least 0"), ({"time_zone": "Mars/Olympus"}, "not a time zone"),
])
def test_bad_invoice_settings_are_named(shop, client, auth, changes, message):
    auth.login()
    form = {"shop_name": "Clay & Co", "currency": "GBP", "price_tolerance_percent": "10",
            "review_total_threshold": "1000", "duplicate_window_minutes": "60", "express_window_days": "2",
            "invoice_on": "shipped", "paper_size": "A4", **changes}
    response = client.post("/settings", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True).replace("&#39;", "'")


def test_a_hundred_invoices_issued_at_once_get_consecutive_numbers(make_app, live_server, make_user, make_product):
    app = make_app()
    with app.app_context():
        make_product("MUG-BLU", stock=1000)
        token = create_api_token(make_user(email="shop@example.com"), ["orders:write"])
        db.session.commit()
        numbers = [order_in_status("confirmed", quantity=1).number for _ in range(100)]
    server = live_server(app)

    def ship(number):
        request = urllib.request.Request(
            f"{server.url}/api/v1/orders/{number}/transitions", method="POST",
            data=json.dumps({"to": "shipped", "carrier": "DPD"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(ship, numbers)) == {200}
    with app.app_context():
        issued = sorted(int(number.rsplit("-", 1)[1]) for number in db.session.scalars(select(Invoice.number)))
    assert issued == list(range(1, 101))


def test_invoice_page_picture(shop):
    """A picture of a rendered invoice for the README (docs/ with `make screenshots`)."""
    shop.tax_rate_percent = Decimal("20")
    db.session.commit()
    order_in_status("shipped", quantity=2)
    invoice = db.session.scalars(select(Invoice)).one()
    from webapp.invoices.issuing import render_invoice

    render_invoice(invoice.id)
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "invoice.pdf"
    pdf.write_bytes(invoice.pdf)
    subprocess.run([shutil.which("pdftoppm"), "-png", "-r", "60", "-singlefile", str(pdf), str(folder / "invoice")],
                   check=True)
    pdf.unlink()
    assert (folder / "invoice.png").stat().st_size > 5000


def test_partial_refunds_get_credit_notes_for_their_amounts_and_the_rest_at_full_refund(shop, client, auth):
    shop.tax_rate_percent = Decimal("20")
    db.session.commit()
    order = order_in_status("shipped", quantity=3)  # invoice 42.00 including 7.00 tax
    auth.login()
    client.post(f"/orders/{order.number}/payment", data={"payment_status": "paid"})
    for amount, message in (("", "Say how much was refunded"), ("lots", "must be an amount such as 12.50"),
                            ("50.00", "at most 42.00"), ("-1", "must be an amount")):
        page = client.post(f"/orders/{order.number}/payment", data={
            "payment_status": "partially_refunded", "refund_amount": amount}, follow_redirects=True)
        assert message in page.get_data(as_text=True), amount
    assert client.post(f"/orders/{order.number}/payment", data={
        "payment_status": "partially_refunded", "refund_amount": "£12.00"}).status_code == 303
    notes = db.session.scalars(select(Invoice).where(Invoice.kind == "credit_note")).all()
    assert [(str(n.total), str(n.tax)) for n in notes] == [("12.00", "2.00")]
    client.post(f"/orders/{order.number}/payment", data={"payment_status": "refunded"})
    notes = db.session.scalars(select(Invoice).where(Invoice.kind == "credit_note").order_by(Invoice.id)).all()
    assert [str(n.total) for n in notes] == ["12.00", "30.00"]
    assert len({n.number for n in notes}) == 2
    from webapp.invoices.issuing import render_invoice

    render_invoice(notes[0].id)
    db.session.refresh(notes[0])
    text = pdf_text(notes[0].pdf)
    assert "Partial refund of invoice INV-" in text and "£12.00" in text


def test_demo_invoices_are_not_emailed_even_when_made_later_by_the_worker(shop, app, inbox):  # noqa: F811
    from flask import g

    app.config.update(SMTP_URL=inbox.url)
    g.suppress_notifications = True  # what the demo seed does
    order_in_status("shipped", quantity=1)
    g.suppress_notifications = False
    from webapp.background.dispatch import dispatch_pending

    dispatch_pending()
    run_jobs()
    assert db.session.scalars(select(Invoice)).one().pdf_rendered_at is not None
    assert inbox.messages == []
