"""Order pages: list, entry form, detail with timeline, and the actions that move an order along."""
from decimal import Decimal, InvalidOperation

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from webapp.catalog.models import Product
from webapp.catalog.products import search_products
from webapp.customers.matching import customers_like
from webapp.extensions import db
from webapp.listing import page_of
from webapp.orders.entry import draft_entry, map_intake_errors, read_entry, validate_entry
from webapp.orders.intake import OrderInputError, take_order
from webapp.orders.models import Order
from webapp.orders.paste import fill_customer, message_errors, read_pasted_order
from webapp.orders.search import fill_item_counts, filtered_orders
from webapp.orders.together import often_bought_with
from webapp.orders.workflow import (
    PAYMENT_TRANSITIONS,
    STATUS_LABELS,
    STATUSES,
    MissingShipmentDetails,
    TransitionRefused,
    add_note,
    allowed_next,
    set_payment_status,
    transition,
)
from webapp.sqlite_locking import reads_only
from webapp.validation import MAX_MONEY
from webapp.views import (
    is_fragment_request,
    page_from_query,
    render_page,
    safe_next_url,
    search_from_query,
)

bp = Blueprint("orders", __name__, url_prefix="/orders")
CARRIERS = ("Royal Mail", "DPD", "Evri", "DHL", "UPS", "Parcelforce", "Collected in person")


def _actor() -> str:
    return current_user.email


def _get_order(number: str, *, for_update: bool = False) -> Order:
    """The order with its customer, lines and events; ``for_update`` locks its row until the commit, so two
    clicks on the same action cannot both apply it (PostgreSQL; SQLite writers are serialized anyway)."""
    query = (select(Order).where(Order.number == number)
             .options(joinedload(Order.customer), selectinload(Order.lines), selectinload(Order.events)))
    if for_update:
        query = query.with_for_update(of=Order).execution_options(populate_existing=True)
    order = db.session.scalars(query).first()
    if order is None:
        abort(404, f"There is no order {number}.")
    return order


def _safe_next(default: str) -> str:
    return safe_next_url(request.form.get("next") or request.args.get("next"), default)


@bp.route("")
def list_orders():
    """Every order, newest first, searchable and filterable by status."""
    status = request.args.get("status", "")
    text = search_from_query()
    errors = []
    if status and status not in STATUSES:
        errors.append(f"'{status}' is not an order status.")
        status = ""
    page = page_from_query(errors)
    query = filtered_orders(statuses=(status,) if status else None, text=text)
    listing = page_of(query.options(joinedload(Order.customer)), page)
    fill_item_counts(listing.items)
    return render_page("orders/list.html", "orders/_rows.html", status=400 if errors else 200, listing=listing,
                       status_filter=status, q=text, statuses=STATUSES, status_labels=STATUS_LABELS, errors=errors)


def _suggestions(entry) -> list:
    """Often bought together with the products on the form's lines."""
    return often_bought_with({line.product.id for line in entry.lines if line.product is not None})


def _entry_page(entry, status=200):
    return render_page("orders/new.html", "orders/_entry.html", status=status, entry=entry,
                       suggestions=_suggestions(entry))


@bp.route("/new", methods=["GET", "POST"])
def new_order():
    """Quick order entry: find products, set quantities, see totals and stock, then create the order."""
    entry = read_entry(request.form)
    if request.method == "GET":
        return _entry_page(entry)
    if request.form.get("add_sku") or request.form.get("remove_line"):
        return _entry_page(entry)  # the no-JavaScript path of the line buttons
    data = validate_entry(entry)
    if data is None:
        return _entry_page(entry, status=422)
    try:
        order = take_order(data, actor=_actor())
    except OrderInputError as error:
        db.session.rollback()
        map_intake_errors(entry, error.errors)
        return _entry_page(entry, status=422)
    db.session.commit()
    flash(f"Order {order.number} created: {STATUS_LABELS[order.status].lower()}.", "success")
    target = url_for("orders.order_detail", number=order.number)
    if request.htmx:
        return "", 200, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/new/lines")
@reads_only
def entry_lines():
    """Add or remove a line, or change a quantity: the lines, stock badges, totals and suggestions again."""
    entry = read_entry(request.form)
    return render_page("orders/new.html", "orders/_entry_lines.html", entry=entry, suggestions=_suggestions(entry))


@bp.get("/new/products")
def find_products():
    """Products whose SKU or name matches what was typed, to add to the order."""
    text = search_from_query("product_q")
    products = db.session.scalars(search_products(text, active_only=True).limit(8)).all() if text else []
    return render_page("orders/product_search.html", "orders/_product_results.html", products=products, q=text)


def _paste_page(message: str, errors: dict | None = None, status: int = 200, **draft):
    return render_page("orders/paste.html", "orders/_paste.html", status=status, message=message,
                       errors=errors or {}, **draft)


@bp.route("/paste", methods=["GET", "POST"])
@reads_only
def paste_order():
    """Paste a customer's email or chat message and get a draft order in the entry form to check and confirm."""
    message = request.form.get("message", "") if request.method == "POST" else ""
    if request.method == "GET":
        return _paste_page(message)
    errors = message_errors(message)
    if errors:
        return _paste_page(message, {"message": errors}, status=422)
    products = db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.sku)).all()
    draft = read_pasted_order(message, products)
    values = draft.values
    fill_customer(draft, customers_like(email=values["customer_email"], phone=values["customer_phone"],
                                        name=values["customer_name"]))
    entry = draft_entry(draft.values, [(line.sku, line.quantity) for line in draft.lines],
                        {p.sku: p for p in products})
    return _paste_page(message, draft=draft, entry=entry, suggestions=_suggestions(entry))


@bp.route("/<number>")
def order_detail(number: str):
    """One order: lines, totals, address, timeline, notes and actions."""
    order = _get_order(number)
    return render_page("orders/detail.html", "orders/_detail.html", order=order, **_detail_context(order))


def _detail_context(order: Order) -> dict:
    from webapp.feedback.recording import feedback_for
    from webapp.invoices.routes import documents_of

    return {"documents": documents_of(order), "next_statuses": allowed_next(order.status),
            "next_payments": PAYMENT_TRANSITIONS.get(order.payment_status, ()), "carriers": CARRIERS,
            "feedback": feedback_for(order)}


@bp.get("/<number>/ship")
def ship_form(number: str):
    """The carrier and tracking number form for shipping an order."""
    order = _get_order(number)
    return render_page("orders/ship.html", "orders/_ship_form.html", order=order, carriers=CARRIERS,
                       next_url=_safe_next(url_for("orders.order_detail", number=number)), errors={})


def _refused(order: Order, refusal: TransitionRefused, next_url: str, status: int = 409):
    """A refused change: say why where the owner is looking, keep everything as it was."""
    db.session.rollback()
    if is_fragment_request():
        response = make_response(render_template("_messages.html", messages=[("error", refusal.message)]), status)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    flash(refusal.message, "error")
    return redirect(next_url, 303)


@bp.post("/<number>/transitions")
def change_status(number: str):
    """Move the order to the status in ``to`` (ship needs a carrier), then show where the owner came from."""
    order = _get_order(number, for_update=True)
    next_url = _safe_next(url_for("orders.order_detail", number=number))
    to = request.form.get("to", "")
    try:
        transition(order, to, actor=_actor(), note=request.form.get("note", "").strip()[:2000],
                   carrier=request.form.get("carrier", "").strip()[:64] or None,
                   tracking_number=request.form.get("tracking_number", "").strip()[:100] or None,
                   restock=request.form.get("restock", "yes") == "yes")
    except MissingShipmentDetails as refusal:
        if is_fragment_request():
            return _refused(order, refusal, next_url, status=422)
        db.session.rollback()
        return render_template("orders/ship.html", order=_get_order(number), carriers=CARRIERS, next_url=next_url,
                               errors={"carrier": [refusal.message]}), 422
    except TransitionRefused as refusal:
        return _refused(order, refusal, next_url)
    db.session.commit()
    flash(f"{order.number} is now {STATUS_LABELS[order.status].lower()}.", "success")
    return redirect(next_url, 303)


def _refund_amount(raw: str | None) -> Decimal | None:
    """The refunded amount typed on the order page, or None when none was typed."""
    if raw is None or not raw.strip():
        return None
    try:
        amount = Decimal(raw.strip().lstrip("£$€").replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2 \
            or amount > MAX_MONEY:
        raise TransitionRefused("The refunded amount must be an amount such as 12.50.", field="refund_amount")
    return amount


@bp.post("/<number>/payment")
def change_payment(number: str):
    """Mark the order paid, refunded or partly refunded."""
    order = _get_order(number, for_update=True)
    next_url = _safe_next(url_for("orders.order_detail", number=number))
    try:
        set_payment_status(order, request.form.get("payment_status", ""), actor=_actor(),
                           note=request.form.get("note", "").strip()[:2000],
                           amount=_refund_amount(request.form.get("refund_amount")))
    except TransitionRefused as refusal:
        return _refused(order, refusal, next_url)
    db.session.commit()
    return redirect(next_url, 303)


@bp.post("/<number>/notes")
def add_order_note(number: str):
    """Add a note to the order's timeline."""
    order = _get_order(number, for_update=True)
    next_url = _safe_next(url_for("orders.order_detail", number=number))
    try:
        add_note(order, request.form.get("note", "")[:5000], actor=_actor())
    except TransitionRefused as refusal:
        return _refused(order, refusal, next_url)
    db.session.commit()
    return redirect(next_url, 303)
