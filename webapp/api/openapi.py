"""GET /api/v1/openapi.json: the API described as OpenAPI 3.1, built from the same pydantic models that
validate requests, plus response models that the tests check real responses against."""
import re
from typing import Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from webapp.api import bp
from webapp.api.orders import TransitionIn
from webapp.catalog.schemas import ProductIn, StockChangeIn
from webapp.orders.models import CHANNELS, PAYMENT_STATUSES, PRIORITIES
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import STATUSES


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerOut(_Out):
    name: str
    email: str | None
    phone: str | None


class AddressOut(_Out):
    name: str | None
    line1: str | None
    line2: str | None
    city: str | None
    postcode: str | None
    country: str | None


class LineOut(_Out):
    sku: str
    name: str
    quantity: int
    unit_price: str
    line_total: str
    known_product: bool


class EventOut(_Out):
    kind: str
    from_: str | None = None
    to: str | None
    note: str
    actor: str
    at: str

    model_config = ConfigDict(extra="forbid", populate_by_name=True,
                              alias_generator=lambda name: "from" if name == "from_" else name)


class OrderSummaryOut(_Out):
    number: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    payment_status: Literal[PAYMENT_STATUSES]  # type: ignore[valid-type]
    priority: Literal[PRIORITIES]  # type: ignore[valid-type]
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    currency: str
    customer: CustomerOut
    subtotal: str
    shipping: str
    tax: str
    discount: str
    total: str
    due_date: str | None
    hold_reasons: list[str]
    external_ref: str | None
    created_at: str
    updated_at: str


class OrderOut(OrderSummaryOut):
    shipping_address: AddressOut
    shipping_method: str | None
    notes: str
    carrier: str | None
    tracking_number: str | None
    shipped_at: str | None
    lines: list[LineOut]
    events: list[EventOut]


class OrderPage(_Out):
    orders: list[OrderSummaryOut]
    page: int
    per_page: int
    total: int


class ProductOut(_Out):
    sku: str
    name: str
    unit_price: str
    unit_cost: str | None
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    lead_time_days: int
    supplier_email: str | None
    active: bool


class ProductPage(_Out):
    products: list[ProductOut]
    page: int
    per_page: int
    total: int


class ForecastPoint(_Out):
    date: str
    yhat: float
    lower: float
    upper: float


class ForecastBacktest(_Out):
    mae: float | None
    mase: float | None
    baseline_mae: float | None
    baseline_mase: float | None
    demand_shift: float | None


class ForecastOut(_Out):
    sku: str
    model: Literal["prophet", "fallback"]
    model_note: str
    as_of: str
    generated_at: str
    fitted_on: str | None  # the day the model was last fitted; the nightly run keeps most fits a few days
    refit_note: str
    points: list[ForecastPoint]
    backtest: ForecastBacktest
    available: int
    stale: bool
    stockout_date: str | None
    stockout_earliest: str | None
    stockout_latest: str | None
    reorder_by: str | None
    reorder_point: int | None
    safety_stock: int | None
    reorder_qty: int | None


class TopProduct(_Out):
    sku: str
    name: str
    quantity: int
    revenue: str


class GrossMargin(_Out):
    margin: str
    margin_rate: float | None
    costed_revenue: str = Field(description="revenue of the lines whose product has a unit cost")
    cost_coverage: float | None = Field(description="costed_revenue as a share of all line revenue")


class Satisfaction(_Out):
    average_rating: float | None
    ratings: int


class ChannelShare(_Out):
    channel: str
    orders: int
    revenue: str
    share: float | None


class TopCustomer(_Out):
    name: str
    email: str | None
    orders: int
    revenue: str


class CountryCount(_Out):
    country: str = Field(description="two letters; empty when unknown")
    customers: int
    orders: int
    revenue: str


class CityCount(_Out):
    city: str
    country: str
    customers: int
    orders: int


class FrequencyBand(_Out):
    orders: Literal["1", "2", "3–5", "6+"]
    customers: int


class Frequency(_Out):
    customers_by_orders: list[FrequencyBand]
    median_days_between_orders: float | None = Field(
        description="median days between consecutive orders of the same customer, both in the range")


class DayFigures(_Out):
    date: str
    orders: int
    revenue: str
    previous_date: str = Field(description="the day at the same offset in the period before")
    previous_orders: int
    previous_revenue: str


class UnusualDay(_Out):
    day: str
    measure: Literal["orders", "revenue"]
    actual: float
    expected: float
    lower: float
    upper: float
    direction: Literal["high", "low"]


class ShiftedProduct(_Out):
    sku: str
    name: str
    demand_shift: float = Field(description="units sold in the last 28 days over units the backtest model expected")
    as_of: str
    direction: Literal["up", "down"]


class UnusualOrder(_Out):
    number: str
    customer: str
    created_at: str
    total: str
    usual_total: str = Field(description="mean total of the customer's earlier orders")
    earlier_orders: int
    direction: Literal["high", "low"]


class Unusual(_Out):
    days: list[UnusualDay]
    products: list[ShiftedProduct]
    orders: list[UnusualOrder]


class AnalyticsSummary(_Out):
    from_: str = Field(alias="from")
    to: str
    orders: int
    revenue: str
    aov: str
    t_avg_hours: float | None
    t_median_hours: float | None
    completion_rate: float | None
    cancellation_rate: float | None
    return_rate: float | None
    repeat_customer_rate: float | None
    top_products: list[TopProduct]
    gross_margin: GrossMargin
    satisfaction: Satisfaction
    channels: list[ChannelShare]
    top_customers: list[TopCustomer]
    countries: list[CountryCount]
    cities: list[CityCount]
    frequency: Frequency
    daily: list[DayFigures]
    unusual: Unusual


class Errors(_Out):
    errors: dict[str, list[str]]


MODELS = (OrderIn, TransitionIn, ProductIn, StockChangeIn, OrderOut, OrderPage, ProductOut, ProductPage,
          AnalyticsSummary, ForecastOut, Errors)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict:
    words = {400: "malformed request, e.g. a NUL character in the address or query",
             401: "missing or invalid token", 403: "token lacks the scope", 404: "not found",
             409: "conflicts with the current state", 413: "request body too large",
             422: "invalid input; the fields are named"}
    # Any request can be malformed below the operation's own rules (refused before it runs).
    return {str(code): _json(Errors, words[code]) for code in (400, *codes)}


def _body(model: type[BaseModel]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "maxLength": 255},
               "description": "Retrying a POST with the same key returns the first answer and does the work once."}
PAGE = {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
QUERY = {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}


def document() -> dict:
    _, definitions = models_json_schema([(model, "validation") for model in MODELS],
                                        ref_template="#/components/schemas/{model}")
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
    sku = {"name": "sku", "in": "path", "required": True, "schema": {"type": "string"}}
    status = {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": list(STATUSES)}}
    return _with_scopes({
        "openapi": "3.1.0",
        "info": {"title": "Solo OMS API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": definitions["$defs"],
        },
        "paths": {
            "/orders": {
                "post": {"summary": "Take an order in (audited at once)", "parameters": [IDEMPOTENCY],
                         "requestBody": _body(OrderIn),
                         "responses": {"201": _json(OrderOut, "the order, audited"),
                                       "200": _json(OrderOut, "replay of an earlier request with the same key"),
                                       **_errors(401, 403, 413, 422)}},
                "get": {"summary": "List orders", "parameters": [status, QUERY, PAGE],
                        "responses": {"200": _json(OrderPage, "a page of orders"), **_errors(401, 403, 422)}},
            },
            "/orders/{number}": {
                "get": {"summary": "One order", "parameters": [number],
                        "responses": {"200": _json(OrderOut, "the order"), **_errors(401, 403, 404)}},
            },
            "/orders/{number}/invoice.pdf": {
                "get": {"summary": "The order's invoice as PDF, once issued (404 before)", "parameters": [number],
                        "responses": {"200": {"description": "the invoice",
                                              "content": {"application/pdf": {"schema": {"type": "string",
                                                                                         "format": "binary"}}}},
                                      **_errors(401, 403, 404)}},
            },
            "/orders/{number}/transitions": {
                "post": {"summary": "Change an order's status", "parameters": [number, IDEMPOTENCY],
                         "requestBody": _body(TransitionIn),
                         "responses": {"200": _json(OrderOut, "the order after the change"),
                                       **_errors(401, 403, 404, 409, 413, 422)}},
            },
            "/analytics/summary": {
                "get": {"summary": "Key figures for the days from..to (shop time, inclusive)",
                        "parameters": [{"name": "from", "in": "query", "required": True,
                                        "schema": {"type": "string", "format": "date"}},
                                       {"name": "to", "in": "query", "required": True,
                                        "schema": {"type": "string", "format": "date"}}],
                        "responses": {"200": _json(AnalyticsSummary, "the figures"), **_errors(401, 403, 422)}},
            },
            "/products": {
                "post": {"summary": "Add a product", "parameters": [IDEMPOTENCY], "requestBody": _body(ProductIn),
                         "responses": {"201": _json(ProductOut, "the product"),
                                       "200": _json(ProductOut, "replay of an earlier request with the same key"),
                                       **_errors(401, 403, 409, 413, 422)}},
                "get": {"summary": "List products", "parameters": [QUERY, PAGE],
                        "responses": {"200": _json(ProductPage, "a page of products"), **_errors(401, 403, 422)}},
            },
            "/products/{sku}": {
                "get": {"summary": "One product with on_hand, reserved and available", "parameters": [sku],
                        "responses": {"200": _json(ProductOut, "the product"), **_errors(401, 403, 404)}},
            },
            "/products/{sku}/forecast": {
                "get": {"summary": "The product's demand forecast (90 days from as_of) and today's reorder advice; "
                                   "404 until a forecast exists", "parameters": [sku],
                        "responses": {"200": _json(ForecastOut, "the forecast"), **_errors(401, 403, 404)}},
            },
            "/products/{sku}/stock": {
                "post": {"summary": "Receive or adjust stock", "parameters": [sku, IDEMPOTENCY],
                         "requestBody": _body(StockChangeIn),
                         "responses": {"200": _json(ProductOut, "the product after the change"),
                                       **_errors(401, 403, 404, 409, 413, 422)}},
            },
        },
    })


def _with_scopes(spec: dict) -> dict:
    """Name in each operation the scope its view declares (read from the views, so the document cannot drift)."""
    for rule in current_app.url_map.iter_rules():
        scope = getattr(current_app.view_functions[rule.endpoint], "required_scope", None)
        if rule.endpoint.startswith("api.") and scope:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods & {"GET", "POST"}:
                spec["paths"][path][method.lower()]["description"] = f"Needs a token with the {scope} scope."
    return spec


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document for this API (public: it holds no data)."""
    return document()
