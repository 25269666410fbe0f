"""Security headers on every kind of response, HSTS only over HTTPS, Secure cookies when the shop is on HTTPS,
and no inline script or style left in the pages' templates."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import order_in_status
from webapp import config
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.invoices.issuing import render_invoice
from webapp.invoices.models import Invoice

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTMX = {"HX-Request": "true"}


def assert_secured(response):
    """The headers every response carries, whatever it is."""
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


@pytest.fixture
def token(make_user):
    user = make_user(email="api@example.com")
    secret = create_api_token(user, ["orders:read", "orders:write", "products:read", "products:write"])
    db.session.commit()
    return secret


def test_public_pages_errors_and_assets_carry_the_headers(client, make_user):
    make_user()  # else /login sends the first visitor to /setup
    for path, status in (("/login", 200), ("/setup", None), ("/board", 302), ("/no-such-page", None),
                         ("/healthz", None), ("/static/app.css", 200),
                         ("/vendor/htmx.js", 200), ("/api/v1/openapi.json", 200), ("/api/v1/orders", 401),
                         ("/api/v1/no-such-thing", 404)):
        with client.get(path) as response:  # files are streamed: close them
            assert status is None or response.status_code == status, (path, response.status_code)
            assert_secured(response)
    refused = client.delete("/login")
    assert refused.status_code == 405
    assert_secured(refused)


def test_signed_in_pages_fragments_and_the_api_carry_the_headers(client, auth, make_product, token):
    auth.login()
    make_product("MUG-BLU", stock=10)
    order = order_in_status("confirmed")
    for path, headers in (("/board", {}), ("/board", HTMX), (f"/orders/{order.number}", {}),
                          ("/dashboard", {}), ("/dashboard", HTMX), ("/orders/SO-999999", {})):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_secured(response)
    api = client.get(f"/api/v1/orders/{order.number}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.is_json
    assert_secured(api)
    bad_input = client.post("/api/v1/orders", data="{", content_type="application/json",
                            headers={"Authorization": f"Bearer {token}"})
    assert bad_input.status_code == 422
    assert_secured(bad_input)


def test_downloads_keep_their_own_type_and_name(client, auth, make_product):
    """PDF and CSV answers get the headers too, without losing Content-Type or Content-Disposition."""
    auth.login()
    make_product("MUG-BLU", stock=10)
    order_in_status("shipped")
    invoice = db.session.scalars(select(Invoice)).one()
    render_invoice(invoice.id)
    with client.get(f"/documents/{invoice.number}.pdf") as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={invoice.number}.pdf"
    assert_secured(pdf)
    csv = client.get("/reorder/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.headers["Content-Disposition"] == "attachment; filename=reorder-list.csv"
    assert_secured(csv)


@pytest.mark.app_config(TRUSTED_PROXY_COUNT=1)
def test_hsts_is_sent_when_the_trusted_proxy_says_https(client):
    secure = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_ignores_a_forwarded_proto_header_without_a_trusted_proxy(client):
    """Anyone can send X-Forwarded-Proto; without ProxyFix it means nothing."""
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    direct = client.get("/login", base_url="https://localhost")
    assert direct.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.app_config(HSTS_SECONDS=0)
def test_hsts_can_be_switched_off(client):
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers


def test_cookies_are_secure_when_the_shop_is_served_over_https(monkeypatch, tmp_path):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("PUBLIC_URL", "https://shop.example.com")
    production = config.from_environment(str(tmp_path))
    assert production["SESSION_COOKIE_SECURE"] and production["REMEMBER_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] and production["REMEMBER_COOKIE_HTTPONLY"]
    assert production["SESSION_COOKIE_SAMESITE"] == production["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert not config.from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"]
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    monkeypatch.delenv("PUBLIC_URL")  # the laptop default, http://127.0.0.1:5000
    laptop = config.from_environment(str(tmp_path))
    assert not laptop["SESSION_COOKIE_SECURE"] and not laptop["REMEMBER_COOKIE_SECURE"]


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True, TRUSTED_PROXY_COUNT=1)
def test_the_session_cookie_is_secure_httponly_and_lax_in_production(client, auth):
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# Emails, invoices and packing slips are read by mail programs and WeasyPrint, never served as pages.
NOT_PAGES = ("emails/", "invoices/document.html", "printing/packing_slip.html")
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "on*= handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "hx-on handler": re.compile(r"\bhx-on", re.I),
    "style= attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_page_templates_hold_no_inline_script_or_style():
    """The CSP refuses them; a new one would silently not work in the browser."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith(NOT_PAGES):
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found
