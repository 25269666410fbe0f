"""Issuing invoices and credit notes for orders, and rendering their PDFs (in the worker)."""
import base64
from decimal import ROUND_HALF_UP, Decimal

from flask import g, render_template
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.background.dispatch import schedule_job
from webapp.extensions import db
from webapp.invoices.models import Invoice
from webapp.invoices.numbering import next_document_number
from webapp.orders.models import Order
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, utcnow
from webapp.validation import CENT
from worker import QUEUE_DOCUMENTS

# An invoice is for an order that is going ahead; these never will, or not yet.
NOT_INVOICEABLE = ("pending", "on_hold", "rejected", "cancelled")


class InvoiceRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def find_document(order: Order, kind: str = "invoice") -> Invoice | None:
    return db.session.scalars(select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == kind)).first()


def issue_invoice(order: Order, *, actor: str) -> Invoice:
    """The order's invoice, issued now with the next number if it has none yet."""
    if order.status in NOT_INVOICEABLE:
        raise InvoiceRefused(f"{order.number} is {order.status.replace('_', ' ')}: it cannot be invoiced.")
    return _issue(order, "invoice", actor=actor)


def credited_so_far(order: Order) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(Invoice.total), 0))
                             .where(Invoice.order_id == order.id, Invoice.kind == "credit_note"))


def issue_credit_note(order: Order, *, actor: str, amount: Decimal | None = None) -> Invoice:
    """A credit note for a refund: ``amount`` of the invoice (a partial refund), or all that is not yet credited."""
    invoice = find_document(order)
    if invoice is None:
        raise InvoiceRefused(f"{order.number} has no invoice to credit.")
    if order.payment_status not in ("refunded", "partially_refunded"):
        raise InvoiceRefused(f"{order.number} is not refunded: mark it refunded or partly refunded first.")
    remaining = invoice.total - Decimal(credited_so_far(order))
    if remaining <= 0:
        raise InvoiceRefused(f"{invoice.number} is credited in full already.")
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise InvoiceRefused(f"A credit for {invoice.number} must be more than 0 and at most {remaining:.2f}.")
    return _issue(order, "credit_note", actor=actor, amount=amount, invoice=invoice)


def _issue(order: Order, kind: str, *, actor: str, amount: Decimal | None = None,
           invoice: Invoice | None = None) -> Invoice:
    from webapp.orders.workflow import record_event  # the workflow also issues invoices; import here, not at load

    if kind == "invoice":
        existing = find_document(order, kind)
        if existing is not None:
            return existing
    settings = current_settings()
    tax_lines = order.tax_lines or []  # None on the shop's own orders: its one rate applies
    amounts = {"subtotal": order.subtotal, "shipping": order.shipping, "discount": order.discount, "tax": order.tax,
               "total": order.total, "tax_lines": tax_lines,
               "tax_included": settings.prices_include_tax if order.tax_included is None else order.tax_included,
               "tax_rate_percent": settings.tax_rate_percent or 0 if order.tax_lines is None else _one_rate(tax_lines)}
    if kind == "credit_note" and amount != invoice.total:  # part of the invoice: its tax in proportion
        tax = (invoice.tax * amount / invoice.total).quantize(CENT, rounding=ROUND_HALF_UP) if invoice.total else 0
        # Per-rate amounts are not split for a part refund: the credit shows its tax as one figure.
        amounts.update(subtotal=amount - tax, shipping=Decimal("0.00"), discount=Decimal("0.00"), tax=tax,
                       total=amount, tax_lines=[], tax_included=False)
    try:
        # The number is taken inside the savepoint: if the same order is invoiced at the same moment
        # elsewhere, the rollback gives the number back, so the sequence stays gapless.
        with db.session.begin_nested():
            document = Invoice(
                number=next_document_number(kind, shop_today().year), kind=kind, order_id=order.id,
                issued_at=utcnow(), currency=order.currency,
                email_customer=not g.get("suppress_notifications"), **amounts,
            )
            db.session.add(document)
    except IntegrityError:
        existing = find_document(order, kind) if kind == "invoice" else None
        if existing is None:
            raise
        return existing
    record_event(order, kind="invoice", actor=actor, note=f"{document.title} {document.number} issued.")
    schedule_job("worker.jobs.invoices.render_invoice_pdf", document.id, job_id=f"invoice-pdf-{document.id}",
                 queue=QUEUE_DOCUMENTS)
    return document


def _one_rate(tax_lines: list[dict]) -> Decimal:
    """The rate of a platform's taxes when there is exactly one (the invoice export's rate column), else 0."""
    rates = {line.get("rate_percent") for line in tax_lines}
    return Decimal(rates.pop()) if len(rates) == 1 and None not in rates else Decimal("0")


def invoice_html(document: Invoice) -> str:
    settings = current_settings()
    logo = None
    if settings.logo and settings.logo_mime:
        logo = f"data:{settings.logo_mime};base64,{base64.b64encode(settings.logo).decode()}"
    credited = find_document(document.order) if document.kind == "credit_note" else None
    return render_template("invoices/document.html", document=document, order=document.order, shop=settings,
                           logo=logo, credited=credited)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy: loaded by the worker when it renders, not by every web process

    return HTML(string=html).write_pdf()


def warm_up_weasyprint() -> None:
    """Import WeasyPrint and render a tiny page, so its fonts are found and its styles parsed once per worker."""
    render_pdf("<p>Solo OMS</p>")


def render_invoice(invoice_id: int) -> str:
    """Render and store the PDF of a document (the worker's job); rendering twice changes nothing."""
    from webapp.emails import order_messages

    document = db.session.get(Invoice, invoice_id)
    if document is None:
        return "no such document"
    if document.pdf_rendered_at is not None:
        order_messages.invoice_ready(document)  # in case an earlier run stopped right after rendering
        db.session.commit()
        return "already rendered"
    html = invoice_html(document)
    db.session.commit()  # no transaction (on SQLite: no write lock) while WeasyPrint works
    pdf = render_pdf(html)
    document = db.session.get(Invoice, invoice_id)
    document.pdf = pdf
    document.pdf_rendered_at = utcnow()
    document.render_error = None
    order_messages.invoice_ready(document)  # the PDF and its email are committed together
    db.session.commit()
    return f"rendered {document.number}"


def record_render_failure(invoice_id: int, error: BaseException) -> None:
    """The last attempt failed: say so on the order page (and stop it waiting)."""
    db.session.rollback()
    document = db.session.get(Invoice, invoice_id)
    if document is not None:
        document.render_error = f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
