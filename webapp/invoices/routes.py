"""An order's documents: issue an invoice or credit note, watch the PDF being made, download it."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer

from webapp.extensions import db
from webapp.invoices.issuing import InvoiceRefused, issue_credit_note, issue_invoice
from webapp.invoices.models import Invoice
from webapp.orders.models import Order
from webapp.views import pdf_response, render_page

bp = Blueprint("invoices", __name__)


def _order(number: str, *, for_update: bool = False) -> Order:
    query = select(Order).where(Order.number == number)
    if for_update:
        query = query.with_for_update(of=Order)
    order = db.session.scalars(query).first()
    if order is None:
        abort(404, f"There is no order {number}.")
    return order


def documents_of(order: Order) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.order_id == order.id).order_by(Invoice.id)))


@bp.get("/orders/<number>/documents")
def order_documents(number: str):
    """The order's invoice and credit note; polls itself while a PDF is being made."""
    order = _order(number)
    return render_page("invoices/page.html", "invoices/_documents.html", order=order, documents=documents_of(order))


def _issue(number: str, issue):
    order = _order(number, for_update=True)
    try:
        document = issue(order, actor=current_user.email)
    except InvoiceRefused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    else:
        db.session.commit()
        flash(f"{document.title} {document.number} issued; its PDF is being made.", "success")
    return redirect(url_for("invoices.order_documents", number=number), 303)


@bp.post("/orders/<number>/invoice")
def issue_order_invoice(number: str):
    """Issue the order's invoice now (when it is not issued automatically)."""
    return _issue(number, issue_invoice)


@bp.post("/orders/<number>/credit-note")
def issue_order_credit_note(number: str):
    """Issue a credit note for a refunded order's invoice."""
    return _issue(number, issue_credit_note)


@bp.get("/documents/<number>.pdf")
def download(number: str):
    """An invoice or credit note as PDF, once made."""
    document = db.session.scalars(
        select(Invoice).where(Invoice.number == number).options(undefer(Invoice.pdf))
    ).first()
    if document is None or document.pdf is None:
        abort(404, f"{number} is not ready as a PDF (yet).")
    return pdf_response(document.pdf, document.filename)
