"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis, in-process over WSGI).

Every operation is called with valid and with invalid data, authenticated by a real token with every scope,
against a shop that holds a real product and order (some cases aim at them, so the fuzzer reaches the code
past "not found"). Each answer must not be a 5xx, must have a documented status code and content type, and
its body must match the documented schema. Derandomized and bounded so that CI runs are stable and quick.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.factories import order_in_status
from webapp import create_app
from webapp.api.openapi import document
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.invoices.issuing import render_invoice
from webapp.invoices.models import Invoice

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ALL_SCOPES = ["orders:read", "orders:write", "products:read", "products:write"]
# The document names each operation's scope from the app's views: read it from an app that touches nothing.
with create_app({"TESTING": True, "SECRET_KEY": "fuzz", "SQLALCHEMY_DATABASE_URI": "sqlite://"}).app_context():
    SPEC = document()
OPERATIONS = [(method.upper(), path) for path, item in SPEC["paths"].items() for method in item]
# Invalid data needs something that can be invalid: a body or a typed query parameter (any text is a valid path).
CAN_BE_INVALID = {(method.upper(), path) for path, item in SPEC["paths"].items() for method, spec in item.items()
                  if "requestBody" in spec or any(p["in"] == "query" for p in spec.get("parameters", []))}
FUZZ_CASES = [pytest.param(method, path, mode, id=f"{method} {path} {label}")
              for method, path in OPERATIONS
              for mode, label in ((GenerationMode.POSITIVE, "valid"), (GenerationMode.NEGATIVE, "invalid"))
              if mode is GenerationMode.POSITIVE or (method, path) in CAN_BE_INVALID]
# Unknown query parameters are ignored on purpose (clients may send more than this version reads), and the token
# is ours to send: schemathesis should not make up either.
FUZZ_CONFIG = schemathesis.Config.from_dict(
    {"generation": {"allow-extra-parameters": False, "with-security-parameters": False}})
FUZZ_SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def shop(app, make_user, make_product):
    """A token with every scope, one product in stock, a confirmed order and a shipped one with its invoice PDF."""
    user = make_user(email="fuzz@example.com")
    token = create_api_token(user, ALL_SCOPES)
    db.session.commit()
    make_product("MUG-BLU", stock=1000)
    confirmed = order_in_status("confirmed", quantity=1)
    shipped = order_in_status("shipped", quantity=1)
    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == shipped.id)).one()
    render_invoice(invoice.id)  # what the worker would do, so the PDF answer is fuzzed too
    return {"token": token, "sku": "MUG-BLU", "numbers": [confirmed.number, shipped.number]}


def _aimed_at_the_shop(operation, mode, shop) -> list:
    """Strategies that use the shop's real order numbers and SKU, where random text would only find nothing."""
    names = {parameter.name for parameter in operation.path_parameters}
    if "number" in names:
        return [operation.as_strategy(generation_mode=mode, path_parameters={"number": number})
                for number in shop["numbers"]]
    if "sku" in names:
        return [operation.as_strategy(generation_mode=mode, path_parameters={"sku": shop["sku"]})]
    if operation.method.upper() == "POST" and operation.path == "/orders" and mode is GenerationMode.POSITIVE:
        return [operation.as_strategy(generation_mode=mode).map(lambda case: _ordering(case, shop["sku"]))]
    return []


def _ordering(case, sku: str):
    """The same order, but for a product the shop sells (so intake, the audit and stock reservation run)."""
    for line in case.body.get("lines", []):
        line["sku"] = sku
    return case


@pytest.mark.parametrize("method,path,mode", FUZZ_CASES)
def test_api_operation_keeps_its_documented_promises(app, shop, method, path, mode):
    """Fuzz one operation; a failure prints the request as a curl command."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=FUZZ_CONFIG)
    operation = schema[path][method]
    strategies = [operation.as_strategy(generation_mode=mode), *_aimed_at_the_shop(operation, mode, shop)]
    headers = {"Authorization": f"Bearer {shop['token']}"}
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @FUZZ_SETTINGS
    @given(case=st.one_of(strategies))
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=checks)
        db.session.rollback()  # the next case starts from committed state, as a new request would

    fuzz()


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("authorization", [None, "Bearer soms_not-a-real-token", "Basic Zm9vOmJhcg==", "Bearer "],
                         ids=["missing", "unknown", "wrong-scheme", "empty"])
def test_api_operation_without_a_valid_token_is_401(client, shop, method, path, authorization):
    """Every operation except the document itself refuses a call without a valid token, and says why."""
    url = "/api/v1" + path.replace("{number}", shop["numbers"][1]).replace("{sku}", shop["sku"])
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
    assert response.status_code == 401, response.data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"errors": {"authorization": ["a valid Bearer token is required"]}}
