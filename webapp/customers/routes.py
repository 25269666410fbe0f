"""Customer pages: list and search, detail with orders, and editing notes, tags or the blocked flag."""
from typing import Annotated

from flask import Blueprint, abort, flash, redirect, request, url_for
from pydantic import EmailStr, Field
from sqlalchemy import func, or_, select

from webapp.customers.insight import SEGMENTS, customer_insight, customer_list, with_segments
from webapp.customers.matching import normalise_phone
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.form_input import read_form
from webapp.listing import page_of
from webapp.orders.models import Order
from webapp.orders.search import fill_item_counts
from webapp.validation import StrictInput
from webapp.views import page_from_query, render_page, search_from_query

bp = Blueprint("customers", __name__, url_prefix="/customers")
HISTORY_PAGE_SIZE = 20


class CustomerEdit(StrictInput):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    address_line1: Annotated[str, Field(max_length=200)] | None = None
    address_line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    tags: Annotated[str, Field(max_length=255)] = ""
    notes: Annotated[str, Field(max_length=5000)] = ""
    blocked: bool = False


@bp.route("")
def list_customers():
    """Customers with their order count, spend and RFM segment, searchable and filterable by segment."""
    text = search_from_query()
    segment = request.args.get("segment", "")
    errors = []
    if segment and segment not in SEGMENTS:
        errors.append(f"'{segment}' is not a customer segment; segment must be one of: {', '.join(SEGMENTS)}.")
        segment = ""
    page = page_from_query(errors)
    query = customer_list(segment).order_by(Customer.name, Customer.id)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(or_(func.lower(Customer.name).like(pattern), func.lower(Customer.email).like(pattern),
                                Customer.phone.like(f"%{normalise_phone(text) or text}%")))
    listing = page_of(query, page, rows=True)
    listing.items = with_segments(listing.items)
    return render_page("customers/list.html", "customers/_rows.html", status=400 if errors else 200,
                       listing=listing, q=text, segment_filter=segment, segments=SEGMENTS, errors=errors)


def _customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404, "There is no such customer.")
    return customer


def _values(customer: Customer) -> dict:
    if request.method == "POST":
        return request.form.to_dict()
    return {name: ("on" if value is True else "" if value in (None, False) else value)
            for name, value in ((field, getattr(customer, field)) for field in CustomerEdit.model_fields)}


@bp.route("/<int(max=2147483647):customer_id>", methods=["GET", "POST"])
def customer_detail(customer_id: int):
    """A customer's details and orders; the owner can edit notes, tags and the blocked flag here."""
    customer = _customer_or_404(customer_id)
    errors = {}
    if request.method == "POST":
        data, errors = read_form(CustomerEdit, request.form, booleans=("blocked",))
        if data is not None:
            values = data.model_dump()
            values["phone"] = normalise_phone(values["phone"])
            values["email"] = values["email"].lower() if values["email"] else None
            values["country"] = values["country"].upper() if values["country"] else None
            for field, value in values.items():
                setattr(customer, field, value)
            db.session.commit()
            flash(f"Saved {customer.name}.", "success")
            return redirect(url_for("customers.customer_detail", customer_id=customer.id), 303)
    history_errors = []
    page = page_from_query(history_errors)
    history = page_of(select(Order).where(Order.customer_id == customer.id)
                      .order_by(Order.created_at.desc(), Order.id.desc()), page, size=HISTORY_PAGE_SIZE)
    fill_item_counts(history.items)
    status = 422 if errors else 400 if history_errors else 200
    return render_page("customers/detail.html", "customers/_edit.html", status=status,
                       customer=customer, history=history, history_errors=history_errors,
                       insight=customer_insight(customer.id), values=_values(customer), errors=errors)
