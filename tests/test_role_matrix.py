"""Every route x every role gets the answer the table below expects.

The table is written out by hand, apart from webapp.auth.access, so that a change of rules there shows up here
as a difference to review; and it must name every endpoint and method in app.url_map, so a new route fails this
test until someone decides who may use it.
"""
import re

import pytest

from tests.conftest import PASSWORD
from webapp import create_app
from webapp.auth.tokens import create_api_token
from webapp.extensions import db

ROLES = ("viewer", "staff", "owner")
EVERYONE = {"viewer", "staff", "owner"}
WORKERS = {"staff", "owner"}
BOOKS = {"viewer", "owner"}  # the owner and the accountant
OWNER = {"owner"}
PUBLIC = "public"  # no sign-in asked for: the page checks something else (a token, a signed link, an HMAC)

# Who may use each endpoint, per method. HEAD follows GET.
PAGES = {
    ("home", "GET"): EVERYONE,
    ("static", "GET"): PUBLIC,
    ("assets.vendor", "GET"): PUBLIC,
    ("health.healthz", "GET"): PUBLIC,
    ("metrics.metrics", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.setup", "GET"): PUBLIC,
    ("auth.setup", "POST"): PUBLIC,
    ("auth.logout", "POST"): EVERYONE,
    ("activity.activity_log", "GET"): BOOKS,
    ("activity.activity_csv", "GET"): BOOKS,
    ("auth.login_code", "GET"): PUBLIC,  # nothing to see or do without a password that just passed
    ("auth.login_code", "POST"): PUBLIC,
    # One's own account: password, two-step sign-in, sessions.
    ("account.account", "GET"): EVERYONE,
    ("account.change_password", "GET"): EVERYONE,
    ("account.change_password", "POST"): EVERYONE,
    ("account.two_step_page", "GET"): EVERYONE,
    ("account.start_two_step", "POST"): EVERYONE,
    ("account.confirm_two_step", "POST"): EVERYONE,
    ("account.new_recovery_codes", "POST"): EVERYONE,
    ("account.turn_off_two_step", "POST"): EVERYONE,
    ("account.sign_out_elsewhere", "POST"): EVERYONE,
    ("feedback.give_feedback", "GET"): PUBLIC,
    ("feedback.give_feedback", "POST"): PUBLIC,
    ("webhooks.shopify_order_created", "POST"): PUBLIC,
    ("webhooks.woocommerce_order_created", "POST"): PUBLIC,
    ("alerts.badge", "GET"): EVERYONE,
    ("alerts.list_alerts", "GET"): EVERYONE,
    ("analytics.dashboard", "GET"): EVERYONE,
    ("analytics.export", "GET"): BOOKS,
    ("board.board", "GET"): EVERYONE,
    ("board.more_cards", "GET"): EVERYONE,
    ("catalog.list_products", "GET"): EVERYONE,
    ("catalog.product_detail", "GET"): EVERYONE,
    ("catalog.new_product", "GET"): WORKERS,
    ("catalog.new_product", "POST"): WORKERS,
    ("catalog.edit_product", "GET"): WORKERS,
    ("catalog.edit_product", "POST"): WORKERS,
    ("catalog.post_stock_change", "POST"): WORKERS,
    ("customers.list_customers", "GET"): EVERYONE,
    ("customers.customer_detail", "GET"): EVERYONE,
    ("customers.customer_detail", "POST"): WORKERS,
    ("emails.list_emails", "GET"): EVERYONE,
    ("emails.retry", "POST"): WORKERS,
    ("emails.give_up", "POST"): WORKERS,
    ("exports.exports_page", "GET"): BOOKS,
    ("exports.download", "GET"): BOOKS,
    ("forecasting.reorder_list", "GET"): EVERYONE,
    ("forecasting.export_reorder_list", "GET"): EVERYONE,
    ("forecasting.product_forecast", "GET"): EVERYONE,
    ("forecasting.run_forecast_now", "POST"): WORKERS,
    ("forecasting.send_purchase_request", "POST"): WORKERS,
    ("imports.new_import", "GET"): WORKERS,
    ("imports.start", "POST"): WORKERS,
    ("imports.show", "GET"): WORKERS,
    ("imports.errors_csv", "GET"): WORKERS,
    ("invoices.order_documents", "GET"): EVERYONE,
    ("invoices.download", "GET"): EVERYONE,
    ("invoices.issue_order_invoice", "POST"): WORKERS,
    ("invoices.issue_order_credit_note", "POST"): WORKERS,
    ("jobs.list_jobs", "GET"): OWNER,
    ("jobs.retry", "POST"): OWNER,
    ("orders.list_orders", "GET"): EVERYONE,
    ("orders.order_detail", "GET"): EVERYONE,
    ("orders.new_order", "GET"): WORKERS,
    ("orders.new_order", "POST"): WORKERS,
    ("orders.entry_lines", "POST"): WORKERS,
    ("orders.find_products", "GET"): WORKERS,
    ("orders.paste_order", "GET"): WORKERS,
    ("orders.paste_order", "POST"): WORKERS,
    ("orders.ship_form", "GET"): WORKERS,
    ("orders.change_status", "POST"): WORKERS,
    ("orders.change_payment", "POST"): WORKERS,
    ("orders.add_order_note", "POST"): WORKERS,
    ("printing.start", "POST"): WORKERS,
    ("printing.show", "GET"): EVERYONE,
    ("printing.download", "GET"): EVERYONE,
    ("settings.edit_settings", "GET"): OWNER,
    ("settings.edit_settings", "POST"): OWNER,
    ("webhooks_out.list_webhooks", "GET"): OWNER,
    ("webhooks_out.add_webhook", "POST"): OWNER,
    ("webhooks_out.delete_webhook", "POST"): OWNER,
    ("webhooks_out.deliveries", "GET"): OWNER,
    ("webhooks_out.send_delivery_again", "POST"): OWNER,
    ("users.list_users", "GET"): OWNER,
    ("users.add_user", "POST"): OWNER,
    ("users.set_role", "POST"): OWNER,
    ("users.deactivate", "POST"): OWNER,
    ("users.reactivate", "POST"): OWNER,
    ("users.reset_password", "POST"): OWNER,
    ("users.reset_two_step_sign_in", "POST"): OWNER,
    ("api_tokens.list_tokens", "GET"): OWNER,
    ("api_tokens.create_token", "POST"): OWNER,
    ("api_tokens.revoke", "POST"): OWNER,
    ("api.openapi_document", "GET"): PUBLIC,
}
# /api/v1 ignores sessions: a Bearer token carrying this scope is needed.
API = {
    ("api.list_orders", "GET"): "orders:read",
    ("api.get_order", "GET"): "orders:read",
    ("api.get_invoice_pdf", "GET"): "orders:read",
    ("api.analytics_summary", "GET"): "orders:read",
    ("api.create_order", "POST"): "orders:write",
    ("api.transition_order", "POST"): "orders:write",
    ("api.list_products", "GET"): "products:read",
    ("api.get_product", "GET"): "products:read",
    ("api.get_forecast", "GET"): "products:read",
    ("api.create_product", "POST"): "products:write",
    ("api.post_stock_change", "POST"): "products:write",
}
SCOPES = ("orders:read", "orders:write", "products:read", "products:write")
SAMPLE_ARGS = {"number": "SO-000001", "sku": "MUG-BLU", "customer_id": "1", "key": "confirmed", "email_id": "1",
               "job_id": "send-email-1", "run_id": "1", "table": "orders", "webhook_id": "1", "delivery_id": "1",
               "user_id": "999999", "token_id": "999999", "token": "not-a-link", "name": "htmx.js",
               "filename": "app.css"}


def _rules():
    """(endpoint, method, url) for every rule and method of the app; OPTIONS is Flask's own empty answer."""
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield rule.endpoint, method, url


RULES = sorted(set(_rules()), key=lambda r: (r[0] == "auth.logout", r))  # signing out last


def _expected(endpoint: str, method: str):
    key = (endpoint, "GET" if method == "HEAD" else method)
    return API[key] if key in API else PAGES[key]


def test_the_table_names_every_route_and_nothing_else():
    """A new route must be classified here (and in webapp.auth.access) before the suite passes."""
    in_app = {(endpoint, "GET" if method == "HEAD" else method) for endpoint, method, _ in RULES}
    in_table = set(PAGES) | set(API)
    assert sorted(in_app - in_table) == [], "routes nobody classified: add them to PAGES or API"
    assert sorted(in_table - in_app) == [], "the table names routes the app no longer has"


def _answer_class(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/login?next="):
        return "login"
    if response.status_code in (401, 403):
        return str(response.status_code)
    return "allowed"


def _expected_class(who: str | None, endpoint: str, method: str) -> str:
    expected = _expected(endpoint, method)
    if isinstance(expected, str) and expected != PUBLIC:  # the API: no session counts, only tokens
        return "401"
    if expected == PUBLIC:
        return "allowed"
    if who is None:
        return "login"
    return "allowed" if who in expected else "403"


def _check_everything(client, who):
    wrong = []
    for endpoint, method, url in RULES:
        with client.open(url, method=method) as response:  # closed: static files are streamed from disk
            expected, got = _expected_class(who, endpoint, method), _answer_class(response)
        # A public endpoint may refuse on its own grounds (a webhook without its HMAC says 401): never a role 403.
        if _expected(endpoint, method) == PUBLIC and got == "401":
            got = "allowed"
        if got != expected:
            wrong.append(f"{method} {url} ({endpoint}): expected {expected}, got {response.status_code}")
        if expected == "403":
            htmx = client.open(url, method=method, headers={"HX-Request": "true"})
            if htmx.status_code != 403 or htmx.headers.get("HX-Reswap") != "none" or b"<html" in htmx.data:
                wrong.append(f"{method} {url} over HTMX: expected a 403 message fragment, got {htmx.status_code}")
        elif expected == "login" and endpoint != "auth.logout":
            htmx = client.open(url, method=method, headers={"HX-Request": "true"})
            if htmx.status_code != 401 or not htmx.headers.get("HX-Redirect", "").startswith("/login"):
                wrong.append(f"{method} {url} over HTMX: expected 401 with HX-Redirect, got {htmx.status_code}")
    return wrong


@pytest.mark.parametrize("who", [None, *ROLES], ids=["anonymous", *ROLES])
def test_every_route_answers_each_role_as_the_table_says(client, make_user, who):
    make_user(email="someone@example.com", role="owner")  # with a user, the gate sends people to sign in
    if who is not None:
        make_user(email=f"{who}@shop.example", role=who)
        assert client.post("/login", data={"email": f"{who}@shop.example", "password": PASSWORD}).status_code == 302
    assert _check_everything(client, who) == []


def test_every_api_route_needs_a_token_with_its_scope(client, make_user):
    owner = make_user(email="api@example.com", role="owner")
    tokens = {scope: create_api_token(owner, [scope]) for scope in SCOPES}
    db.session.commit()
    wrong = []
    for endpoint, method, url in RULES:
        if (endpoint, "GET" if method == "HEAD" else method) not in API:
            continue
        scope = _expected(endpoint, method)
        for token, expected in [(None, "401"), ("soms_not-a-real-token", "401"), (tokens[scope], "allowed"),
                                *[(tokens[other], "403") for other in SCOPES if other != scope]]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
            if _answer_class(response) != expected:
                wrong.append(f"{method} {url} with {token and token[:9]}: expected {expected}, "
                             f"got {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_an_api_token_is_held_to_its_users_role_even_when_it_carries_more_scopes(client, make_user, role):
    """Tokens are made by the owner (or the CLI) for a person; a role lowered later takes the writes away."""
    person = make_user(email=f"{role}-api@example.com", role="staff")
    token = create_api_token(person, list(SCOPES))
    person.role = role
    db.session.commit()
    wrong = []
    for endpoint, method, url in RULES:
        if (endpoint, "GET" if method == "HEAD" else method) not in API:
            continue
        scope = _expected(endpoint, method)
        expected = "allowed" if role == "staff" or scope.endswith(":read") else "403"
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                               json={} if method == "POST" else None)
        if _answer_class(response) != expected:
            wrong.append(f"{method} {url} as {role}: expected {expected}, got {response.status_code}")
    assert wrong == []


def test_an_unclassified_page_is_open_to_the_owner_alone(make_app, make_user):
    """The rule for a route someone forgot: closed to staff and viewers until it is classified."""
    app = make_app()

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    with app.app_context():
        make_user(email="staff@example.com", role="staff")
        make_user(email="boss@example.com", role="owner")
    staff, owner = app.test_client(), app.test_client()
    staff.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    owner.post("/login", data={"email": "boss@example.com", "password": PASSWORD})
    assert staff.get("/forgotten").status_code == 403
    assert owner.get("/forgotten").status_code == 200


def test_the_api_document_names_the_scope_of_every_call(client):
    document = client.get("/api/v1/openapi.json").json
    for (endpoint, method), scope in API.items():
        rule = next(rule for rule in client.application.url_map.iter_rules() if rule.endpoint == endpoint)
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        assert document["paths"][path][method.lower()]["description"] == f"Needs a token with the {scope} scope."
