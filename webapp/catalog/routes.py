"""Product pages: list and search, add and edit, stock changes and the movement history."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.catalog.models import StockMovement
from webapp.catalog.products import (
    DuplicateSku,
    change_stock,
    find_product,
    save_product,
    search_products,
)
from webapp.catalog.schemas import ProductIn, StockChangeIn
from webapp.catalog.stock import StockError
from webapp.extensions import db
from webapp.forecasting.routes import panel_context
from webapp.form_input import read_form
from webapp.listing import page_of
from webapp.views import page_from_query, render_page, search_from_query

bp = Blueprint("catalog", __name__, url_prefix="/products")
PRODUCT_INTEGERS = ("reorder_point", "lead_time_days")


def _product_or_404(sku: str):
    product = find_product(sku)
    if product is None:
        abort(404, f"There is no product {sku}.")
    return product


@bp.route("")
def list_products():
    """Products with their stock, searchable by SKU or name."""
    text = search_from_query()
    errors = []
    page = page_from_query(errors)
    query = search_products(text)
    return render_page("catalog/list.html", "catalog/_rows.html", status=400 if errors else 200,
                       listing=page_of(query, page), q=text, errors=errors)


def _form_values(product=None) -> dict:
    if request.method == "POST":
        return request.form.to_dict()
    if product is None:
        return {"lead_time_days": "7", "reorder_point": "0", "active": "on"}
    return {"sku": product.sku, "name": product.name, "unit_price": f"{product.unit_price:.2f}",
            "unit_cost": f"{product.unit_cost:.2f}" if product.unit_cost is not None else "",
            "reorder_point": str(product.reorder_point), "lead_time_days": str(product.lead_time_days),
            "supplier_email": product.supplier_email or "", "active": "on" if product.active else ""}


def _edit(product=None):
    if request.method == "POST":
        data, errors = read_form(ProductIn, request.form, integers=PRODUCT_INTEGERS, booleans=("active",))
        if data is not None:
            try:
                product = save_product(data, product)
            except DuplicateSku as error:
                db.session.rollback()
                errors = {"sku": [str(error)]}
            else:
                db.session.commit()
                flash(f"Saved {product.sku}.", "success")
                return redirect(url_for("catalog.product_detail", sku=product.sku), 303)
        db.session.rollback()
        return render_page("catalog/form.html", "catalog/_form.html", status=422, product=product,
                           values=_form_values(product), errors=errors)
    return render_page("catalog/form.html", "catalog/_form.html", product=product, values=_form_values(product),
                       errors={})


@bp.route("/new", methods=["GET", "POST"])
def new_product():
    """Add a product to the catalogue."""
    return _edit()


@bp.route("/<sku>/edit", methods=["GET", "POST"])
def edit_product(sku: str):
    """Change a product's details (not its stock: that goes through stock changes)."""
    return _edit(_product_or_404(sku))


def _detail(product, status=200, stock_errors=None, stock_values=None):
    movements = db.session.scalars(
        select(StockMovement).where(StockMovement.product_id == product.id)
        .options(joinedload(StockMovement.order))
        .order_by(StockMovement.id.desc()).limit(100)
    ).all()
    return render_page("catalog/detail.html", "catalog/_stock.html", status=status, **panel_context(product),
                       movements=movements, stock_errors=stock_errors or {},
                       stock_values=stock_values or {"kind": "receive"})


@bp.route("/<sku>")
def product_detail(sku: str):
    """A product: on hand, reserved, available, and every stock movement."""
    return _detail(_product_or_404(sku))


@bp.post("/<sku>/stock")
def post_stock_change(sku: str):
    """Receive stock or adjust it with a reason."""
    product = _product_or_404(sku)
    change, errors = read_form(StockChangeIn, request.form, integers=("delta",))
    if change is not None:
        try:
            change_stock(product, change, actor=current_user.email)
        except StockError as error:
            errors = {"delta": [str(error)]}
        else:
            db.session.commit()
            flash(f"Stock of {product.sku} updated.", "success")
            return redirect(url_for("catalog.product_detail", sku=sku), 303)
    db.session.rollback()
    return _detail(_product_or_404(sku), status=422, stock_errors=errors, stock_values=request.form.to_dict())
