"""Orders over the API: take one in, list and read them, move them along."""
from typing import Literal

from flask import request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from webapp.api import api_actor, bp, error_response, requires_scope
from webapp.api.params import BadInput, page_number
from webapp.api.serializers import order_detail, order_summary
from webapp.api.writes import api_write
from webapp.extensions import db
from webapp.listing import page_of
from webapp.orders.intake import OrderInputError, take_order
from webapp.orders.models import Order
from webapp.orders.schemas import OrderIn
from webapp.orders.search import filtered_orders
from webapp.orders.workflow import (
    STATUSES,
    MissingShipmentDetails,
    TransitionRefused,
    transition,
)
from webapp.validation import StrictInput


class TransitionIn(StrictInput):
    to: Literal[STATUSES]  # type: ignore[valid-type]
    carrier: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", max_length=2000)
    restock: bool = True


@bp.errorhandler(BadInput)
def _bad_input(error: BadInput):
    db.session.rollback()
    return error_response(error.status, error.errors)


def _load_order(number: str, *, for_update: bool = False) -> Order | None:
    query = (select(Order).where(Order.number == number)
             .options(selectinload(Order.lines), selectinload(Order.events), selectinload(Order.customer)))
    if for_update:  # concurrent transitions of one order queue here instead of both applying
        query = query.with_for_update(of=Order).execution_options(populate_existing=True)
    return db.session.scalars(query).first()


@bp.post("/orders")
@requires_scope("orders:write")
@api_write(OrderIn)
def create_order(body: OrderIn):
    """Take an order in; it comes back audited: confirmed, on_hold (with reasons) or rejected."""
    try:
        order = take_order(body, actor=api_actor())
    except OrderInputError as error:
        raise BadInput(error.errors) from error
    return order_detail(order), 201, {"Location": f"/api/v1/orders/{order.number}"}


@bp.get("/orders")
@requires_scope("orders:read")
def list_orders():
    """Orders, newest first, filtered by ``status`` and ``q`` (number, customer, SKU); 50 a page."""
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise BadInput({"status": [f"must be one of: {', '.join(STATUSES)}"]})
    page = page_number()
    query = filtered_orders(statuses=(status,) if status else None, text=request.args.get("q"))
    listing = page_of(query.options(selectinload(Order.customer)), page)
    return {"orders": [order_summary(order) for order in listing.items], "page": page, "per_page": listing.size,
            "total": listing.total}


@bp.get("/orders/<number>")
@requires_scope("orders:read")
def get_order(number: str):
    """One order with its lines, timeline and hold reasons."""
    order = _load_order(number)
    if order is None:
        return error_response(404, {"number": [f"no order {number}"]})
    return order_detail(order)


@bp.get("/orders/<number>/invoice.pdf")
@requires_scope("orders:read")
def get_invoice_pdf(number: str):
    """The order's invoice as PDF once issued and made; 404 before."""
    from webapp.invoices.models import Invoice
    from webapp.views import pdf_response

    order = _load_order(number)
    if order is None:
        return error_response(404, {"number": [f"no order {number}"]})
    document = db.session.scalars(
        select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == "invoice").options(undefer(Invoice.pdf))
    ).first()
    if document is None:
        return error_response(404, {"invoice": [f"{number} has no invoice yet"]})
    if document.pdf is None:
        return error_response(404, {"invoice": [f"{document.number} is issued; its PDF is being made"]},
                              {"Retry-After": "5"})
    return pdf_response(document.pdf, document.filename)


@bp.post("/orders/<number>/transitions")
@requires_scope("orders:write")
@api_write(TransitionIn)
def transition_order(number: str, body: TransitionIn):
    """Move an order to another status; 409 when the lifecycle does not allow it."""
    order = _load_order(number, for_update=True)
    if order is None:
        return error_response(404, {"number": [f"no order {number}"]})
    try:
        transition(order, body.to, actor=api_actor(), note=body.note, carrier=body.carrier,
                   tracking_number=body.tracking_number, restock=body.restock)
    except MissingShipmentDetails as refusal:
        raise BadInput({refusal.field: [refusal.message]}) from refusal
    except TransitionRefused as refusal:
        raise BadInput({refusal.field: [refusal.message]}, status=409) from refusal
    return order_detail(order), 200
