"""Who may do what: sign-in everywhere but /healthz, login and setup; the first owner; CSRF; rate limits."""
import re

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp import create_app
from webapp.auth.models import User
from webapp.auth.setup_token import issue_setup_token
from webapp.extensions import db

# /feedback/<token> checks its signed link instead of a session (tests/test_feedback.py); the webhooks in check
# the platform's signature (tests/test_webhooks_in.py); /metrics answers localhost or its bearer token
# (tests/test_metrics_and_logs.py).
PUBLIC = {"/healthz", "/login", "/login/code", "/setup", "/static/<path:filename>", "/vendor/<name>",
          "/api/v1/openapi.json", "/feedback/<token>", "/webhooks/shopify/orders-create",
          "/webhooks/woocommerce/order-created", "/metrics"}
SAMPLE_ARGS = {"number": "SO-000001", "sku": "MUG-BLU", "customer_id": "1", "key": "confirmed", "email_id": "1",
               "job_id": "send-email-1", "run_id": "1", "table": "orders",
               "webhook_id": "1", "delivery_id": "1", "user_id": "1", "token_id": "1"}


def _routes():
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for rule in app.url_map.iter_rules():
        if rule.rule in PUBLIC:
            continue
        url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


ROUTES = sorted(set(_routes()))


def test_every_route_is_listed():
    assert ("GET", "/board") in ROUTES and ("POST", "/api/v1/orders") in ROUTES and len(ROUTES) > 25


@pytest.mark.parametrize("method, url", ROUTES, ids=[f"{m} {u}" for m, u in ROUTES])
def test_non_public_routes_need_a_session_or_token(client, make_user, method, url):
    make_user()  # with a user, the gate sends people to sign in (not to setup)
    response = client.open(url, method=method)
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert "authorization" in response.json["errors"]
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        htmx = client.open(url, method=method, headers={"HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_public_endpoints_answer_without_sign_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    with client.get("/static/app.css") as response:
        assert response.status_code == 200


def test_login_and_logout(client, make_user):
    make_user()
    assert client.get("/login").status_code == 200
    wrong = client.post("/login", data={"email": "owner@example.com", "password": "wrong password"})
    assert wrong.status_code == 401 and "Email or password is wrong" in wrong.get_data(as_text=True)
    ok = client.post("/login?next=/orders", data={"email": "OWNER@example.com", "password": PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == "/orders"
    assert client.get("/orders").status_code == 200
    client.post("/logout")
    assert client.get("/orders").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, make_user, target):
    make_user()
    response = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD},
                           query_string={"next": target})
    assert response.headers["Location"] == "/board"


def test_login_form_names_missing_fields(client, make_user):
    make_user()
    response = client.post("/login", data={"email": "not-an-email"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This field is required." in html and "Invalid email address." in html


def test_passwords_are_stored_as_argon2id(app, make_user):
    from webapp.auth import models

    user = make_user()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert models.User.check_password(user, PASSWORD) and not user.check_password("nope")


def test_first_run_asks_for_the_owner_account_with_the_setup_token(client, app):
    assert client.get("/board").headers["Location"].startswith("/login")
    login = client.get("/login")
    assert login.status_code == 302 and login.headers["Location"] == "/setup"
    token = issue_setup_token()
    db.session.commit()
    form = {"email": "me@shop.example", "password": "a very good password", "confirm": "a very good password"}
    bad = client.post("/setup", data={**form, "setup_token": "guess"})
    assert bad.status_code == 422 and "not the setup token" in bad.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None
    ok = client.post("/setup", data={**form, "setup_token": token})
    assert ok.status_code == 302
    owner = db.session.scalars(select(User)).one()
    assert (owner.email, owner.role) == ("me@shop.example", "owner")
    assert client.get("/board").status_code == 200
    # The token is spent and setup is closed for good.
    client.post("/logout")
    assert client.get("/setup").headers["Location"] == "/login"
    assert client.post("/setup", data={**form, "setup_token": token}).status_code == 302
    assert len(db.session.scalars(select(User)).all()) == 1


def test_setup_page_makes_a_token_when_none_was_printed(client, app, capsys):
    assert client.get("/setup").status_code == 200
    printed = capsys.readouterr().out
    assert "Solo OMS setup token:" in printed


def test_setup_form_errors_are_named(client, app):
    issue_setup_token()
    db.session.commit()
    response = client.post("/setup", data={"setup_token": "x", "email": "bad", "password": "short", "confirm": "other"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Invalid email address." in html and "Use at least 10 characters" in html and "Passwords differ." in html


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_and_htmx_requests_need_the_csrf_token(client, auth, make_product):
    make_user_and_login_with_csrf(client, auth)
    make_product("MUG-BLU", stock=5)
    data = {"kind": "receive", "delta": "3", "reason": "delivery"}
    refused = client.post("/products/MUG-BLU/stock", data=data)
    assert refused.status_code == 400 and "form expired" in refused.get_data(as_text=True)
    page = client.get("/products/MUG-BLU").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    htmx = client.post("/products/MUG-BLU/stock", data=data, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert htmx.status_code == 303
    form = client.post("/products/MUG-BLU/stock", data={**data, "csrf_token": token})
    assert form.status_code == 303


def make_user_and_login_with_csrf(client, auth):
    auth._make_user(email="owner@example.com", role="owner", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
def test_sign_in_attempts_are_rate_limited(client, make_user):
    make_user()
    for _ in range(3):
        assert client.post("/login", data={"email": "owner@example.com", "password": "guess"}).status_code == 401
    limited = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    assert limited.status_code == 429
    assert client.get("/login").status_code == 200


def test_viewers_can_look_but_not_change(client, make_user, make_product):
    make_product("MUG-BLU", stock=5)
    make_user(email="accountant@example.com", role="viewer")
    client.post("/login", data={"email": "accountant@example.com", "password": PASSWORD})
    assert client.get("/products/MUG-BLU").status_code == 200
    assert client.post("/products/MUG-BLU/stock", data={"delta": "1", "reason": "x"}).status_code == 403


def test_only_the_owner_changes_settings(client, make_user):
    make_user(email="helper@example.com", role="staff")
    client.post("/login", data={"email": "helper@example.com", "password": PASSWORD})
    assert client.get("/settings").status_code == 403


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user()
    response = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
