"""Products and stock over the API."""
from flask import request

from webapp.api import api_actor, bp, error_response, requires_scope
from webapp.api.params import BadInput, page_number
from webapp.api.serializers import forecast_json, product_json
from webapp.api.writes import api_write
from webapp.catalog.products import (
    DuplicateSku,
    change_stock,
    find_product,
    save_product,
    search_products,
)
from webapp.catalog.schemas import ProductIn, StockChangeIn
from webapp.catalog.stock import StockError
from webapp.forecasting.views import current_advice, forecast_of
from webapp.listing import page_of


@bp.post("/products")
@requires_scope("products:write")
@api_write(ProductIn)
def create_product(body: ProductIn):
    """Add a product to the catalogue (stock starts at zero; receive it with /stock)."""
    try:
        product = save_product(body)
    except DuplicateSku as error:
        raise BadInput({"sku": [str(error)]}, status=409) from error
    return product_json(product), 201, {"Location": f"/api/v1/products/{product.sku}"}


@bp.get("/products")
@requires_scope("products:read")
def list_products():
    """Products by SKU, filtered by ``q`` over SKU and name; 50 a page."""
    page = page_number()
    query = search_products(request.args.get("q"))
    listing = page_of(query, page)
    return {"products": [product_json(p) for p in listing.items], "page": page, "per_page": listing.size,
            "total": listing.total}


@bp.get("/products/<sku>")
@requires_scope("products:read")
def get_product(sku: str):
    """One product with on_hand, reserved and available."""
    product = find_product(sku)
    if product is None:
        return error_response(404, {"sku": [f"no product {sku}"]})
    return product_json(product)


@bp.post("/products/<sku>/stock")
@requires_scope("products:write")
@api_write(StockChangeIn)
def post_stock_change(sku: str, body: StockChangeIn):
    """Receive stock or adjust it with a reason; every change is a ledger entry."""
    product = find_product(sku)
    if product is None:
        return error_response(404, {"sku": [f"no product {sku}"]})
    try:
        change_stock(product, body, actor=api_actor())
    except StockError as error:
        raise BadInput({"delta": [str(error)]}, status=409) from error
    return product_json(product), 200


@bp.get("/products/<sku>/forecast")
@requires_scope("products:read")
def get_forecast(sku: str):
    """The latest demand forecast with its backtest, and the reorder advice for today's stock (404 until one)."""
    product = find_product(sku)
    if product is None:
        return error_response(404, {"sku": [f"no product {sku}"]})
    forecast = forecast_of(product)
    if forecast is None:
        return error_response(404, {"sku": [f"no forecast yet for {sku}; run `flask forecast run --sku {sku}`"]})
    return forecast_json(product, forecast, current_advice(product, forecast))
