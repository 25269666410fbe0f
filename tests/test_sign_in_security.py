"""Two-step sign-in, password rules, session expiry, sign out everywhere and the sign-in rate limits."""
import re
import time
import uuid

import pyotp
import pytest
from flask import g, request_started
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from webapp import config
from webapp.auth import two_step
from webapp.auth.models import RecoveryCode, User
from webapp.auth.routes import PENDING
from webapp.auth.sessions import SEEN_AT, SIGNED_IN_AT
from webapp.extensions import db


@pytest.fixture(autouse=True)
def browsers_are_separate(app):
    """Each request sees only its own browser's user. The test's app context is shared by the test client's requests,
    so Flask-Login's per-request user in ``g`` would otherwise carry over from one client to another."""
    def forget_user(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget_user, app)
    yield
    request_started.disconnect(forget_user, app)


def turn_on_two_step(user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Two-step sign-in switched on directly through the service; returns the authenticator and the recovery codes."""
    secret = two_step.start_setup(user)
    codes = two_step.enable(user)
    db.session.commit()
    return pyotp.TOTP(secret), codes


def a_wrong_code(totp: pyotp.TOTP) -> str:
    """A well-formed code that no step near now produces."""
    near = {totp.at(time.time() + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in near)


def enter_password(client, email="owner@example.com", password=PASSWORD, next_url=None, remember=False):
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    return client.post("/login", data=data, query_string={"next": next_url} if next_url else None)


def signed_in(client) -> bool:
    return client.get("/board").status_code == 200


# --- turning it on ---------------------------------------------------------------------------------------------

def test_turning_on_shows_a_qr_code_and_needs_a_current_code(client, auth):
    auth.login()
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "Set up two-step sign-in" in page
    assert client.post("/account/two-step/start").status_code == 302
    page = client.get("/account/two-step").get_data(as_text=True)
    user = db.session.scalars(select(User)).one()
    secret = two_step.secret_of(user)
    totp = pyotp.TOTP(secret)
    assert "<svg" in page and "QR code for your authenticator app" in page
    assert " ".join(secret[i:i + 4] for i in range(0, 32, 4)) in page  # the key, to type by hand
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # the QR code needs no inline script
    assert not user.two_step_enabled

    malformed = client.post("/account/two-step/confirm", data={"code": "12ab"})
    assert malformed.status_code == 422 and "Enter the 6-digit code" in malformed.get_data(as_text=True)
    wrong = client.post("/account/two-step/confirm", data={"code": a_wrong_code(totp)})
    assert wrong.status_code == 401 and "That code is not right" in wrong.get_data(as_text=True)
    empty = client.post("/account/two-step/confirm", data={"code": ""})
    assert empty.status_code == 422 and "Enter the 6-digit code" in empty.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.two_step_enabled

    shown = client.post("/account/two-step/confirm", data={"code": totp.now()})
    assert shown.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{4}(?:-[0-9a-f]{4}){3})</code>", shown.get_data(as_text=True))
    assert len(set(codes)) == 10 and "not shown again" in shown.get_data(as_text=True)
    db.session.refresh(user)
    assert user.two_step_enabled
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(stored) & {code.replace("-", "") for code in codes}  # hashed
    assert "10 of 10 recovery codes left" in client.get("/account/two-step").get_data(as_text=True)
    assert signed_in(client)  # the session that turned it on stays signed in


def test_turning_on_signs_out_the_other_sessions(app, client, auth):
    auth.login()
    other = app.test_client()
    assert enter_password(other).status_code == 302 and signed_in(other)
    client.post("/account/two-step/start")
    user = db.session.scalars(select(User)).one()
    client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(two_step.secret_of(user)).now()})
    assert not signed_in(other) and signed_in(client)


# --- signing in with it ----------------------------------------------------------------------------------------

def test_sign_in_asks_for_a_code_and_grants_no_session_before_it(client, make_user):
    totp, _ = turn_on_two_step(make_user())
    response = enter_password(client, next_url="/orders")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/code")
    assert not signed_in(client)
    page = client.get("/login/code")
    assert page.status_code == 200 and "authenticator app" in page.get_data(as_text=True)

    wrong = client.post("/login/code?next=/orders", data={"code": a_wrong_code(totp)})
    assert wrong.status_code == 401 and "That code is not right" in wrong.get_data(as_text=True)
    malformed = client.post("/login/code?next=/orders", data={"code": "12345"})
    assert malformed.status_code == 422 and "6-digit code" in malformed.get_data(as_text=True)
    assert not signed_in(client)

    ok = client.post("/login/code?next=/orders", data={"code": totp.now()})
    assert ok.status_code == 302 and ok.headers["Location"] == "/orders"
    assert signed_in(client)


def test_a_code_is_refused_the_second_time(app, client, make_user):
    totp, _ = turn_on_two_step(make_user())
    code = totp.now()
    enter_password(client)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    again = app.test_client()
    enter_password(again)
    replay = again.post("/login/code", data={"code": code})
    assert replay.status_code == 401 and "already used" in replay.get_data(as_text=True)
    assert not signed_in(again)


def test_an_older_code_is_refused_after_a_newer_one(client, make_user):
    totp, _ = turn_on_two_step(make_user())
    enter_password(client)
    assert client.post("/login/code", data={"code": totp.at(time.time())}).status_code == 302
    client.post("/logout")
    enter_password(client)
    older = totp.at(time.time() - 30)
    response = client.post("/login/code", data={"code": older})
    # The step before now is within the allowed drift, but it is older than the one already spent.
    assert response.status_code == 401 and "already used" in response.get_data(as_text=True)


def test_a_recovery_code_signs_in_once(app, client, make_user):
    _, codes = turn_on_two_step(make_user())
    enter_password(client)
    typed = " " + codes[0].upper().replace("-", " ") + " "  # spaces and capitals are forgiven
    assert client.post("/login/code", data={"code": typed}).status_code == 302
    assert signed_in(client)
    again = app.test_client()
    enter_password(again)
    used = again.post("/login/code", data={"code": codes[0]})
    assert used.status_code == 401 and "not one of yours, or it was already used" in used.get_data(as_text=True)
    unknown = again.post("/login/code", data={"code": "0123-4567-89ab-cdef"})
    assert unknown.status_code == 401 and "not one of yours" in unknown.get_data(as_text=True)
    assert again.post("/login/code", data={"code": codes[1]}).status_code == 302


def test_the_code_step_needs_a_recent_password_step(client, make_user):
    totp, _ = turn_on_two_step(make_user())
    direct = client.post("/login/code", data={"code": totp.now()})
    assert direct.status_code == 302 and direct.headers["Location"].startswith("/login")
    assert "email and password first" in client.get("/login").get_data(as_text=True)
    enter_password(client)
    with client.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "at": int(time.time()) - 301}  # the password step was 5 minutes ago
    late = client.post("/login/code", data={"code": totp.now()})
    assert late.status_code == 302 and late.headers["Location"].startswith("/login")
    assert not signed_in(client)


def test_turning_off_needs_the_password_and_a_code(client, make_user):
    user = make_user()
    totp, _ = turn_on_two_step(user)
    enter_password(client)
    signed_in_with = totp.now()
    client.post("/login/code", data={"code": signed_in_with})
    wrong_password = client.post("/account/two-step/off", data={"password": "not it at all", "code": "123456"})
    assert wrong_password.status_code == 401 and "not your password" in wrong_password.get_data(as_text=True)
    wrong_code = client.post("/account/two-step/off", data={"password": PASSWORD, "code": a_wrong_code(totp)})
    assert wrong_code.status_code == 401 and "That code is not right" in wrong_code.get_data(as_text=True)
    missing = client.post("/account/two-step/off", data={"password": PASSWORD})
    assert missing.status_code == 422 and "Enter the 6-digit code" in missing.get_data(as_text=True)
    db.session.refresh(user)
    assert user.two_step_enabled

    # The code just used to sign in is spent; the recovery codes still work here.
    # (The very code: a fresh totp.now() could be the next step's by now on a busy machine, and rightly pass.)
    replay = client.post("/account/two-step/off", data={"password": PASSWORD, "code": signed_in_with})
    assert replay.status_code == 401
    _, codes = None, two_step.new_recovery_codes(user)
    db.session.commit()
    assert client.post("/account/two-step/off", data={"password": PASSWORD, "code": codes[0]}).status_code == 302
    db.session.refresh(user)
    assert not user.two_step_enabled and user.totp_secret_sealed is None
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    client.post("/logout")
    assert enter_password(client).headers["Location"] == "/board"  # the password alone again


def test_new_recovery_codes_replace_the_old_ones(app, client, make_user):
    user = make_user()
    totp, old_codes = turn_on_two_step(user)
    enter_password(client)
    client.post("/login/code", data={"code": old_codes[0]})
    assert "9 of 10 recovery codes left" in client.get("/account/two-step").get_data(as_text=True)
    wrong = client.post("/account/two-step/recovery-codes", data={"code": a_wrong_code(totp)})
    assert wrong.status_code == 401
    page = client.post("/account/two-step/recovery-codes", data={"code": totp.now()}).get_data(as_text=True)
    new_codes = re.findall(r"<code>([0-9a-f-]{19})</code>", page)
    assert len(new_codes) == 10 and "old recovery codes no longer work" in page
    other = app.test_client()
    enter_password(other)
    assert other.post("/login/code", data={"code": old_codes[1]}).status_code == 401
    assert other.post("/login/code", data={"code": new_codes[0]}).status_code == 302


# --- rate limits -----------------------------------------------------------------------------------------------

@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
def test_too_many_sign_in_attempts_say_when_to_try_again(client, make_user):
    make_user()
    for _ in range(3):
        assert enter_password(client, password="guess").status_code == 401
    limited = enter_password(client)
    page = limited.get_data(as_text=True)
    assert limited.status_code == 429 and "Too many attempts" in page
    assert re.search(r"Try again in \d+ seconds, at \d\d:\d\d:\d\d", page)
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert not signed_in(client)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute", TWO_STEP_RATE_LIMIT="2 per minute")
def test_code_attempts_are_limited_per_account(app, client, make_user):
    totp, _ = turn_on_two_step(make_user())
    enter_password(client)
    assert client.post("/login/code", data={"code": a_wrong_code(totp)}).status_code == 401
    # Another browser (another attacker's address, say) shares the account's allowance.
    other = app.test_client()
    enter_password(other)
    assert other.post("/login/code", data={"code": a_wrong_code(totp)}).status_code == 401
    limited = other.post("/login/code", data={"code": totp.now()})
    assert limited.status_code == 429 and "Try again in" in limited.get_data(as_text=True)
    assert client.post("/login/code", data={"code": totp.now()}).status_code == 429
    assert not signed_in(client) and not signed_in(other)


def test_production_counts_sign_in_attempts_in_the_apps_redis(monkeypatch, tmp_path):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6380/2")
    settings = config.from_environment(str(tmp_path))
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6380/2"
    assert settings["RATELIMIT_ENABLED"] is True


def test_web_processes_share_the_sign_in_limit_through_redis(make_app, redis_server):
    overrides = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": redis_server["url"],
                 "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex, "LOGIN_RATE_LIMIT": "2 per minute"}
    first, second = make_app(**overrides), make_app(**overrides)
    with first.app_context():
        user = User(email="owner@example.com", role="owner")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    for _ in range(2):
        assert enter_password(first.test_client(), password="guess").status_code == 401
    with second.app_context():
        assert enter_password(second.test_client()).status_code == 429


# --- password rules and changing the password ------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("short one", "Use at least 10 characters (this one has 9)."),
    ("password123", "one of the most common passwords"),
    ("qwertyuiop", "one of the most common passwords"),
    ("owner-rules-the-shop", "Do not put your email address"),
    ("xxowner@example.comxx", "Do not put your email address"),
    ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ("x" * 201, "Use at most 200 characters"),
])
def test_weak_new_passwords_are_refused_with_the_reason(client, auth, password, problem):
    auth.login()
    response = client.post("/account/password",
                           data={"current_password": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 422 and problem in response.get_data(as_text=True)
    assert db.session.scalars(select(User)).one().check_password(PASSWORD)


def test_change_password_checks_the_current_one(client, auth):
    auth.login()
    wrong = client.post("/account/password", data={"current_password": "not my password",
                                                   "password": "plum harbour lantern",
                                                   "confirm": "plum harbour lantern"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    differ = client.post("/account/password", data={"current_password": PASSWORD, "password": "plum harbour lantern",
                                                    "confirm": "plum harbour lanterns"})
    assert differ.status_code == 422 and "Passwords differ." in differ.get_data(as_text=True)
    same = client.post("/account/password", data={"current_password": PASSWORD, "password": PASSWORD,
                                                  "confirm": PASSWORD})
    assert same.status_code == 422 and "same as the current one" in same.get_data(as_text=True)


def test_changing_the_password_signs_out_every_other_session(app, client, auth):
    auth.login()
    other = app.test_client()
    enter_password(other)
    assert signed_in(other)
    changed = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "password": "plum harbour lantern",
                                                      "confirm": "plum harbour lantern"})
    assert changed.status_code == 302
    assert signed_in(client) and not signed_in(other)
    assert enter_password(other).status_code == 401
    assert enter_password(other, password="plum harbour lantern").status_code == 302


def test_setup_and_users_create_use_the_same_password_rules(client, runner):
    from webapp.auth.setup_token import issue_setup_token

    token = issue_setup_token()
    db.session.commit()
    form = {"setup_token": token, "email": "maker@shop.example", "password": "password123", "confirm": "password123"}
    assert "one of the most common passwords" in client.post("/setup", data=form).get_data(as_text=True)
    result = runner.invoke(args=["users", "create", "--email", "maker@shop.example", "--password", "maker-2026-pots"])
    assert result.exit_code != 0 and "--password" in result.output and "email address" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_a_viewer_may_change_their_own_password(client, auth):
    auth.login(email="accountant@example.com", role="viewer")
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "plum harbour lantern",
                                                      "confirm": "plum harbour lantern"})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 302 and not signed_in(client)


# --- sessions that end -----------------------------------------------------------------------------------------

@pytest.mark.app_config(SESSION_IDLE_MINUTES=30)
def test_a_session_ends_after_the_idle_time(client, auth):
    auth.login()
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 29 * 60
    assert signed_in(client)
    with client.session_transaction() as session:
        assert session[SEEN_AT] >= int(time.time()) - 5  # using it counts as activity
        session[SEEN_AT] = int(time.time()) - 31 * 60
    response = client.get("/board")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "after 30 minutes without activity" in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30)
def test_the_board_polling_itself_does_not_keep_a_session_alive(client, auth):
    auth.login()
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 20 * 60
    assert client.get("/board", headers={"HX-Request": "true"}).status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_AT] <= int(time.time()) - 20 * 60


@pytest.mark.app_config(SESSION_MAX_DAYS=7)
def test_a_session_ends_after_its_lifetime_however_busy(client, auth):
    auth.login()
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - 7 * 86400 + 60
    assert signed_in(client)
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - 7 * 86400 - 60
    assert client.get("/board").status_code == 302
    assert "at most 7 days" in client.get("/login").get_data(as_text=True)


# --- sign out everywhere ---------------------------------------------------------------------------------------

def test_sign_out_everywhere_ends_other_sessions_and_remember_cookies(app, client, auth):
    auth.login()
    user = db.session.scalars(select(User)).one()
    phone = app.test_client()
    enter_password(phone)
    remembered = app.test_client()
    enter_password(remembered, remember=True)
    remembered.delete_cookie("session")  # the browser was closed: the remember cookie alone signs it in
    assert signed_in(phone) and signed_in(remembered)

    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302
    assert "Every other session has been signed out" in client.get("/account").get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(phone)
    assert not signed_in(remembered)
    stale_cookie = app.test_client()
    stale_cookie.set_cookie("remember_token", encode_cookie(f"{user.id}:0:{int(time.time())}"))
    assert not signed_in(stale_cookie)
    assert enter_password(phone).status_code == 302 and signed_in(phone)  # signing in again works


def test_a_forged_session_user_id_is_refused(app, client, make_user):
    user = make_user()
    now = int(time.time())
    for forged in (str(user.id), f"{user.id}:x", "x:0", f"{user.id}:1", f"{user.id}:0", f"{user.id}:1:{now}",
                   f"{user.id}:0:{now}:0", f"{user.id}:0:x"):
        with client.session_transaction() as session:
            session["_user_id"] = forged
            session[SIGNED_IN_AT] = session[SEEN_AT] = int(time.time())
        assert not signed_in(client), forged


# --- found in review (2026-12-01) --------------------------------------------------------------------------------

@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
def test_password_guesses_at_one_account_are_limited_from_any_address(app, make_user):
    make_user()
    answers = [app.test_client().post("/login", data={"email": "Owner@Example.com", "password": "a wrong guess"},
                                      environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]  # four addresses, one account: the account's allowance ran out
    other = app.test_client().post("/login", data={"email": "someone-else@example.com", "password": "guess"},
                                   environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401  # another account is not locked by it


@pytest.mark.parametrize("code", ["１２３４５６", "١٢٣٤٥٦", "12345６"])
def test_a_code_in_other_digits_is_refused_not_an_error(app, client, make_user, code):
    turn_on_two_step(make_user())
    enter_password(client)
    response = client.post("/login/code", data={"code": code})
    assert response.status_code in (401, 422) and not signed_in(client)


def test_new_recovery_codes_and_signing_out_everywhere_are_in_the_activity_log(app, client, make_user):
    from webapp.activity.models import ActivityEntry

    user = make_user()
    totp, _ = turn_on_two_step(user)
    enter_password(client)
    client.post("/login/code", data={"code": totp.now()})
    client.post("/account/two-step/recovery-codes", data={"code": a_wrong_code(totp)})  # refused: no entry
    assert client.post("/account/sign-out-everywhere").status_code in (302, 303)
    notes = [entry.note for entry in db.session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "user"))]
    db.session.rollback()
    assert any("Signed out everywhere" in note for note in notes), notes
