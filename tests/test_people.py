"""The owner's users page and everyone's API tokens page, as the people using them would notice.

Each person browses with their own app instance (as separate web processes would serve them), so no request
shares the test's database session.
"""
import re

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp.auth.models import ApiToken, User
from webapp.auth.tokens import create_api_token
from webapp.extensions import db

NEW_PASSWORD = "another long password"


def _account(email: str) -> dict:
    """What is stored for a user now; the test's own transaction ends at once, so it never holds SQLite's lock
    while the app writes."""
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.email == email)).one()
    stored = {"id": user.id, "role": user.role, "active": user.active, "last_sign_in_at": user.last_sign_in_at}
    db.session.rollback()
    return stored


def _sign_in(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def person(make_user):
    """Create a user; returns their id."""
    def create(email="owner@example.com", role="owner", password=PASSWORD) -> int:
        return _account(make_user(email=email, role=role, password=password).email)["id"]
    return create


@pytest.fixture
def signed_in(make_app, person):
    """A browser of its own, signed in as a new user with ``role`` (or signed out with email=None)."""
    def open_browser(email="owner@example.com", role="owner"):
        client = make_app().test_client()
        if email is not None:
            person(email=email, role=role)
            assert _sign_in(client, email).status_code == 302
        return client
    return open_browser


# The users page


def test_the_owner_adds_a_person_who_can_then_sign_in(signed_in):
    client = signed_in()
    response = client.post("/users", data={"email": " Helper@Shop.example ", "role": "staff",
                                           "password": NEW_PASSWORD})
    assert response.status_code == 302
    page = client.get("/users").get_data(as_text=True)
    assert "helper@shop.example" in page and "Added helper@shop.example as staff" in page
    helper = signed_in(email=None)
    assert _sign_in(helper, "helper@shop.example", NEW_PASSWORD).status_code == 302
    assert helper.get("/orders").status_code == 200
    assert _account("helper@shop.example")["last_sign_in_at"] is not None
    assert "<td>never</td>" not in client.get("/users").get_data(as_text=True).split("helper@shop.example")[1][:900]


@pytest.mark.parametrize("form, field, message", [
    ({"email": "not an email", "role": "staff", "password": NEW_PASSWORD}, "email", "not an email address"),
    ({"email": "", "role": "staff", "password": NEW_PASSWORD}, "email", "Give an email address"),
    ({"email": "a@shop.example", "role": "admin", "password": NEW_PASSWORD}, "role", "Choose one of: owner, staff"),
    ({"email": "a@shop.example", "password": NEW_PASSWORD}, "role", "Choose one of"),
    ({"email": "a@shop.example", "role": "staff", "password": "short"}, "password", "at least 10 characters"),
    ({"email": "a@shop.example", "role": "staff"}, "password", "Give a password"),
    ({"email": "owner@example.com", "role": "staff", "password": NEW_PASSWORD}, "email", "already a user"),
])
def test_a_bad_new_person_is_refused_naming_the_field(signed_in, form, field, message):
    client = signed_in()
    response = client.post("/users", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(User.email)).all() == ["owner@example.com"]


def test_the_owner_changes_a_role(signed_in, person):
    helper_id = person(email="helper@example.com", role="staff")
    client = signed_in()
    assert client.post(f"/users/{helper_id}/role", data={"role": "viewer"}).status_code == 302
    assert _account("helper@example.com")["role"] == "viewer"
    refused = client.post(f"/users/{helper_id}/role", data={"role": "boss"})
    assert refused.status_code == 422 and "Choose one of: owner, staff, viewer" in refused.get_data(as_text=True)
    assert client.post("/users/999999/role", data={"role": "staff"}).status_code == 404


def test_the_last_active_owner_cannot_demote_or_switch_off_themselves(signed_in, person):
    client = signed_in()
    me = _account("owner@example.com")
    demote = client.post(f"/users/{me['id']}/role", data={"role": "staff"})
    assert demote.status_code == 422 and "last active owner" in demote.get_data(as_text=True)
    off = client.post(f"/users/{me['id']}/switch-off")
    assert off.status_code == 422 and "last active owner" in off.get_data(as_text=True)
    assert _account("owner@example.com") | {"id": 0, "last_sign_in_at": None} == {
        "id": 0, "role": "owner", "active": True, "last_sign_in_at": None}
    # A switched-off second owner does not count either.
    other_id = person(email="partner@example.com", role="owner")
    db.session.get(User, other_id).active = False
    db.session.commit()
    assert client.post(f"/users/{me['id']}/role", data={"role": "staff"}).status_code == 422
    # With another active owner it is allowed.
    client.post(f"/users/{other_id}/switch-on")
    assert client.post(f"/users/{me['id']}/role", data={"role": "staff"}).status_code == 302
    assert _account("owner@example.com")["role"] == "staff"
    assert client.get("/users").status_code == 403  # no longer an owner: the page closes at once


def test_a_switched_off_person_loses_sessions_and_tokens_and_cannot_sign_in(signed_in, person):
    helper_id = person(email="helper@example.com", role="staff")
    secret = create_api_token(db.session.get(User, helper_id), ["orders:read"])
    db.session.commit()
    helper_client = signed_in(email=None)
    assert _sign_in(helper_client, "helper@example.com").status_code == 302
    assert helper_client.get("/orders").status_code == 200
    bearer = {"Authorization": f"Bearer {secret}"}
    client = signed_in()
    assert client.get("/api/v1/orders", headers=bearer).status_code == 200

    assert client.post(f"/users/{helper_id}/switch-off").status_code == 302
    assert "Switched off" in client.get("/users").get_data(as_text=True)
    assert helper_client.get("/orders").status_code == 302  # the open session ended
    assert client.get("/api/v1/orders", headers=bearer).status_code == 401
    fresh = signed_in(email=None)
    _sign_in(fresh, "helper@example.com")
    assert fresh.get("/orders").status_code == 302

    assert client.post(f"/users/{helper_id}/switch-on").status_code == 302
    assert client.get("/api/v1/orders", headers=bearer).status_code == 200
    assert _sign_in(fresh, "helper@example.com").status_code == 302 and fresh.get("/orders").status_code == 200


def test_the_owner_sets_a_new_password(signed_in, person):
    helper_id = person(email="helper@example.com", role="staff")
    client = signed_in()
    short = client.post(f"/users/{helper_id}/password", data={"password": "tiny"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    assert client.post(f"/users/{helper_id}/password", data={"password": NEW_PASSWORD}).status_code == 302
    other = signed_in(email=None)
    assert _sign_in(other, "helper@example.com", PASSWORD).status_code == 401
    assert _sign_in(other, "helper@example.com", NEW_PASSWORD).status_code == 302


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_every_users_form_needs_its_csrf_token(client, person):
    person()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token})
    helper_id = person(email="helper@example.com", role="staff")
    for path, data in [("/users", {"email": "x@shop.example", "role": "staff", "password": NEW_PASSWORD}),
                       (f"/users/{helper_id}/role", {"role": "viewer"}), (f"/users/{helper_id}/switch-off", {}),
                       (f"/users/{helper_id}/password", {"password": NEW_PASSWORD}),
                       ("/tokens", {"scopes": "orders:read"})]:
        assert client.post(path, data=data).status_code == 400, path
    page = client.get("/users").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 5  # sign out, add, and the forms of each row
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post(f"/users/{helper_id}/role", data={"role": "viewer", "csrf_token": token}).status_code == 302


# Roles on the pages


def test_pages_hide_what_the_role_cannot_open(signed_in):
    client = signed_in(email="accountant@example.com", role="viewer")
    nav = client.get("/board").get_data(as_text=True).split("<main")[0]
    for hidden in ("/orders/new", "/orders/paste", "/imports", "/jobs", "/users", "/settings", "/tokens"):
        assert f'href="{hidden}"' not in nav, hidden
    for shown in ("/orders", "/dashboard", "/customers", "/exports", "/activity"):
        assert f'href="{shown}"' in nav, shown
    assert 'href="/orders/new"' not in client.get("/orders").get_data(as_text=True)
    assert 'href="/products/new"' not in client.get("/products").get_data(as_text=True)


def test_a_refusal_is_a_friendly_page_or_an_htmx_message(signed_in):
    client = signed_in(email="helper@example.com", role="staff")
    page = client.get("/settings")
    assert page.status_code == 403 and "Not allowed" in page.get_data(as_text=True)
    assert "owner can change your role" in page.get_data(as_text=True)
    fragment = client.post("/settings", headers={"HX-Request": "true"})
    assert fragment.status_code == 403 and fragment.headers["HX-Reswap"] == "none"
    body = fragment.get_data(as_text=True)
    assert 'id="messages"' in body and 'hx-swap-oob="true"' in body and "<html" not in body


# The API tokens page


def test_a_new_token_is_shown_once_and_works(signed_in):
    client = signed_in()
    response = client.post("/tokens", data={"scopes": ["orders:read", "products:read"]})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    secret = re.search(r"<code>(soms_[^<]+)</code>", response.get_data(as_text=True)).group(1)
    assert secret not in client.get("/tokens").get_data(as_text=True)
    listed = client.get("/tokens").get_data(as_text=True)
    assert "orders:read, products:read" in listed and "<td>never</td>" in listed
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert "<td>never</td>" not in client.get("/tokens").get_data(as_text=True)  # last used is shown
    refused = client.post("/api/v1/orders", json={}, headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 403 and "orders:write" in refused.json["errors"]["authorization"][0]


@pytest.mark.parametrize("scopes, message", [
    (["orders:delete"], "Unknown scope orders:delete"),
    ([], "Choose at least one scope"),
])
def test_an_unknown_or_missing_scope_is_refused(signed_in, scopes, message):
    client = signed_in()
    response = client.post("/tokens", data={"scopes": scopes})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_only_the_owner_makes_api_tokens(signed_in, role):
    """A token reads every order and customer in bulk: like exports, it is the owner's (issue 6)."""
    client = signed_in(email=f"{role}@example.com", role=role)
    assert client.get("/tokens").status_code == 403
    assert client.post("/tokens", data={"scopes": ["orders:read"]}).status_code == 403
    assert db.session.scalars(select(ApiToken)).all() == []
    assert 'href="/tokens"' not in client.get("/board").get_data(as_text=True)


def test_a_token_held_by_someone_whose_role_was_lowered_loses_what_the_role_no_longer_allows(signed_in, person):
    owner = signed_in()
    helper_id = person(email="helper@example.com", role="staff")
    secret = create_api_token(db.session.get(User, helper_id), ["orders:read", "orders:write"])  # as the CLI can
    db.session.commit()
    db.session.rollback()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert owner.post(f"/users/{helper_id}/role", data={"role": "viewer"}).status_code in (302, 303)
    assert owner.get("/api/v1/orders", headers=bearer).status_code == 200
    refused = owner.post("/api/v1/orders", json={}, headers=bearer)
    assert refused.status_code == 403


def test_the_owner_sees_and_revokes_every_token(signed_in, person):
    client = signed_in()
    helper_id = person(email="helper@example.com", role="staff")
    owner_id = _account("owner@example.com")["id"]
    helper_prefix = create_api_token(db.session.get(User, helper_id), ["orders:read"])[:12]  # made with the CLI
    owner_prefix = create_api_token(db.session.get(User, owner_id), ["products:write"])[:12]
    db.session.commit()
    helper_token_id, owner_token_id = (db.session.scalars(select(ApiToken.id).where(ApiToken.prefix == prefix)).one()
                                       for prefix in (helper_prefix, owner_prefix))
    db.session.rollback()
    everyone = client.get("/tokens").get_data(as_text=True)
    assert helper_prefix in everyone and owner_prefix in everyone and "helper@example.com" in everyone
    assert client.post(f"/tokens/{helper_token_id}/revoke").status_code == 302
    revoked = dict(db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all())
    db.session.rollback()
    assert revoked[helper_token_id] is not None and revoked[owner_token_id] is None


def test_a_revoked_token_is_refused(signed_in):
    client = signed_in()
    created = client.post("/tokens", data={"scopes": ["orders:read"]}).get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {re.search(r'<code>(soms_[^<]+)</code>', created).group(1)}"}
    assert client.get("/api/v1/orders", headers=bearer).status_code == 200
    token_id = db.session.scalars(select(ApiToken.id)).one()
    db.session.rollback()
    assert client.post("/tokens/abc/revoke").status_code == 404
    assert client.post(f"/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/orders", headers=bearer).status_code == 401


# Found in review (2026-12-01)

def test_switching_someone_back_on_does_not_bring_back_their_old_sessions(signed_in, person):
    owner = signed_in()
    helper = signed_in(email="helper@example.com", role="staff")
    helper_id = _account("helper@example.com")["id"]
    assert owner.post(f"/users/{helper_id}/switch-off").status_code in (302, 303)
    assert helper.get("/board").status_code == 302
    assert owner.post(f"/users/{helper_id}/switch-on").status_code in (302, 303)
    assert helper.get("/board").status_code == 302  # the old cookie stays dead; they sign in again
    assert _sign_in(helper, "helper@example.com").status_code == 302 and helper.get("/board").status_code == 200


def test_a_switched_off_account_is_told_so_at_sign_in(signed_in, person):
    owner = signed_in()
    helper_id = person(email="helper@example.com", role="staff")
    owner.post(f"/users/{helper_id}/switch-off")
    browser = signed_in(email=None)
    response = _sign_in(browser, "helper@example.com")
    assert response.status_code == 403 and "switched off" in response.get_data(as_text=True)
    assert browser.get("/board").status_code == 302


def test_a_password_the_owner_sets_is_checked_against_that_persons_email(signed_in, person):
    owner = signed_in()
    helper_id = person(email="staffperson@example.com", role="staff")
    response = owner.post(f"/users/{helper_id}/password", data={"password": "staffperson-orchid-bicycle"},
                          follow_redirects=True)
    assert "email" in response.get_data(as_text=True).lower()
    assert _sign_in(signed_in(email=None), "staffperson@example.com", "staffperson-orchid-bicycle").status_code == 401


@pytest.mark.parametrize("path", ["/users/99999999999999999999/role", "/users/99999999999999999999/switch-off",
                                  "/users/99999999999999999999/switch-on", "/users/99999999999999999999/password",
                                  "/tokens/99999999999999999999/revoke"])
def test_ids_too_large_for_the_database_are_404(signed_in, path):
    assert signed_in().post(path, data={"role": "staff", "password": "x"}).status_code == 404
