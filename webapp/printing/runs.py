"""Starting a print run and making its PDF (all its documents in one file, in the worker)."""
import io

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from webapp.background.dispatch import schedule_job
from webapp.extensions import db
from webapp.invoices.issuing import invoice_html, render_pdf
from webapp.invoices.models import Invoice
from webapp.orders.models import Order
from webapp.printing.models import PRINT_KINDS, PrintRun
from webapp.settings.models import current_settings
from webapp.timekeeping import utcnow
from worker import QUEUE_DOCUMENTS

MAX_ORDERS = 200


class PrintRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def start_print_run(kind: str, numbers: list[str], *, actor: str) -> PrintRun:
    """Record a print run for these orders and schedule its job (after the commit)."""
    if kind not in PRINT_KINDS:
        raise PrintRefused(f"'{kind}' is not something to print; choose invoices or packing slips.")
    numbers = list(dict.fromkeys(number.strip() for number in numbers if number.strip()))
    if not numbers:
        raise PrintRefused("Select at least one order to print.")
    if len(numbers) > MAX_ORDERS:
        raise PrintRefused(f"Print at most {MAX_ORDERS} orders at a time.")
    known = set(db.session.scalars(select(Order.number).where(Order.number.in_(numbers))))
    unknown = [number for number in numbers if number not in known]
    if unknown:
        raise PrintRefused(f"No such order: {', '.join(unknown[:5])}.")
    run = PrintRun(kind=kind, order_numbers=numbers, requested_by=actor, job_id="pending")
    db.session.add(run)
    db.session.flush()
    run.job_id = f"print-run-{run.id}"
    schedule_job("worker.jobs.printing.make_print_run", run.id, job_id=run.job_id, queue=QUEUE_DOCUMENTS)
    return run


def packing_slip_html(order: Order) -> str:
    return render_template("printing/packing_slip.html", order=order, shop=current_settings())


def make_print_run(run_id: int, report_progress=lambda done, total: None) -> str:
    """Put every document of the run into one PDF. Invoices use the PDF stored when they were issued, so a
    reprint is the same document the customer got; packing slips are made now. Orders without an invoice are
    listed as skipped."""
    from pypdf import PdfWriter

    run = db.session.get(PrintRun, run_id)
    if run is None or run.finished_at is not None:
        return "nothing to do"
    numbers = list(run.order_numbers)
    orders = {o.number: o for o in db.session.scalars(
        select(Order).where(Order.number.in_(numbers)).options(selectinload(Order.lines)))}
    invoices = {}
    if run.kind == "invoices":
        invoices = {i.order_id: i for i in db.session.scalars(
            select(Invoice).where(Invoice.kind == "invoice", Invoice.order_id.in_([o.id for o in orders.values()]))
            .options(undefer(Invoice.pdf)))}
    documents, skipped = [], []  # each: stored PDF bytes, or HTML to render
    for number in numbers:
        order = orders[number]
        if run.kind == "packing_slips":
            documents.append(packing_slip_html(order))
        elif order.id not in invoices:
            skipped.append(f"{number}: no invoice issued")
        else:
            invoice = invoices[order.id]
            documents.append(invoice.pdf if invoice.pdf is not None else invoice_html(invoice))
    db.session.commit()  # no transaction (on SQLite: no write lock) while WeasyPrint works
    writer = PdfWriter()
    for done, document in enumerate(documents, start=1):
        writer.append(io.BytesIO(document if isinstance(document, bytes) else render_pdf(document)))
        report_progress(done, len(documents))
    run = db.session.get(PrintRun, run_id)
    if documents:
        output = io.BytesIO()
        writer.write(output)
        run.pdf = output.getvalue()
    else:
        run.error = "Nothing to print: none of the selected orders has an invoice yet."
    run.skipped = skipped
    run.finished_at = utcnow()
    db.session.commit()
    return f"{len(documents)} document(s), {len(skipped)} skipped"


def record_run_failure(run_id: int, error: BaseException) -> None:
    """The last attempt failed: finish the run with the error, so its page stops waiting and says why."""
    db.session.rollback()
    run = db.session.get(PrintRun, run_id)
    if run is not None and run.finished_at is None:
        run.error = f"The PDF could not be made: {type(error).__name__}: {error}"[:2000]
        run.finished_at = utcnow()
        db.session.commit()
