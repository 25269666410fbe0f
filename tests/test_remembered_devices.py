""""Keep me signed in on this device": a remembered device outlasts the idle limit and the browser's session, but
still ends SESSION_MAX_DAYS after the password was typed, and when its person signs out everywhere or is switched
off."""
import time

import pytest
from flask_login.utils import encode_cookie

from tests.test_sign_in_security import (  # noqa: F401 - browsers_are_separate is an autouse fixture
    browsers_are_separate,
    enter_password,
    signed_in,
    turn_on_two_step,
)
from webapp.auth.models import User
from webapp.auth.sessions import REMEMBERED, SEEN_AT, SIGNED_IN_AT

DAY = 86400


def remembered_client(app, email="owner@example.com"):
    """A browser that signed in with "Keep me signed in", then was closed (its session cookie gone)."""
    client = app.test_client()
    response = enter_password(client, email=email, remember=True)
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")
    return client


def cookie_signed_in_at(app, user: User, signed_in_at: int) -> str:
    with app.test_request_context():
        return encode_cookie(f"{user.id}:{user.session_generation}:{signed_in_at}")


def test_without_keep_me_signed_in_there_is_no_remember_cookie(app, client, make_user):
    make_user()
    enter_password(client)
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    assert not signed_in(client)


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30)
def test_a_remembered_device_stays_signed_in_when_idle_and_after_the_browser_closes(app, make_user):
    make_user()
    client = remembered_client(app)
    assert signed_in(client)  # brought back by the cookie
    with client.session_transaction() as session:
        signed_in_at = session[SIGNED_IN_AT]
        assert session[REMEMBERED] and abs(signed_in_at - time.time()) < 60
        session[SEEN_AT] = int(time.time()) - 3 * 3600  # idle for three hours
    assert signed_in(client)


@pytest.mark.app_config(SESSION_MAX_DAYS=7)
def test_a_remembered_device_comes_back_with_its_first_sign_in_time_and_ends_after_the_max_days(app, make_user):
    user = make_user()
    six_days_ago = int(time.time()) - 6 * DAY
    client = app.test_client()
    client.set_cookie("remember_token", cookie_signed_in_at(app, user, six_days_ago))
    assert signed_in(client)
    with client.session_transaction() as session:
        assert session[SIGNED_IN_AT] == six_days_ago  # not restarted by coming back
        session[SIGNED_IN_AT] = int(time.time()) - 7 * DAY - 60  # a day later
    response = client.get("/board")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "at most 7 days" in client.get("/login").get_data(as_text=True)
    assert client.get_cookie("remember_token") is None  # the cookie went with the session
    assert not signed_in(client)

    # A cookie kept past its expiry (copied, or a browser that ignores it) is refused all the same.
    old = app.test_client()
    old.set_cookie("remember_token", cookie_signed_in_at(app, user, int(time.time()) - 7 * DAY - 60))
    assert not signed_in(old)


def test_a_remembered_device_ends_when_its_person_is_switched_off(app, make_user):
    make_user(email="owner@example.com")
    helper = make_user(email="helper@example.com", role="staff")
    device = remembered_client(app, email="helper@example.com")
    assert signed_in(device)
    owner = app.test_client()
    enter_password(owner)
    assert owner.post(f"/users/{helper.id}/switch-off").status_code == 302
    assert not signed_in(device)
    assert owner.post(f"/users/{helper.id}/switch-on").status_code == 302
    assert not signed_in(device)  # switching on again does not bring the old sessions back


@pytest.mark.app_config(SESSION_MAX_DAYS=7)
def test_signing_out_everywhere_else_keeps_this_session_remembered_and_does_not_extend_it(app, make_user):
    make_user()
    client = remembered_client(app)
    assert signed_in(client)
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = signed_in_at = int(time.time()) - 5 * DAY
    other = remembered_client(app)
    assert client.post("/account/sign-out-everywhere").status_code == 302
    assert not signed_in(other)
    with client.session_transaction() as session:
        assert session[SIGNED_IN_AT] == signed_in_at and session[REMEMBERED]
    client.delete_cookie("session")
    assert signed_in(client)  # its new remember cookie, with the same sign-in time
    with client.session_transaction() as session:
        assert session[SIGNED_IN_AT] == signed_in_at


def test_keep_me_signed_in_carries_through_the_two_step_code(app, make_user):
    totp, _ = turn_on_two_step(make_user())
    client = app.test_client()
    enter_password(client, remember=True)
    assert client.get_cookie("remember_token") is None  # no session, and no cookie, before the code
    assert client.post("/login/code", data={"code": totp.now()}).status_code == 302
    client.delete_cookie("session")
    assert signed_in(client)
