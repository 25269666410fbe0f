"""The two-step sign-in key encrypted at rest: never stored in the clear, rotated with OLD_SECRET_KEYS, and a key no
longer readable sends the person to a recovery code (and the owner can reset it), never to a 500."""
import os
import time

import pyotp
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text

from tests.test_sign_in_security import browsers_are_separate, enter_password, signed_in  # noqa: F401
from webapp import create_app
from webapp.activity.models import ActivityEntry
from webapp.auth import two_step
from webapp.auth.models import User
from webapp.extensions import db

BEFORE_SEALING = "f0ba029a1b17"  # the revision before users.totp_secret became users.totp_secret_sealed


def stored_key(user_id: int) -> str | None:
    """The column as the database holds it, past the ORM."""
    db.session.rollback()
    return db.session.execute(text("SELECT totp_secret_sealed FROM users WHERE id = :id"), {"id": user_id}).scalar()


def set_up_on_the_page(client) -> tuple[str, list[str]]:
    """Two-step sign-in turned on through the account pages; returns the key shown and the recovery codes."""
    client.post("/account/two-step/start")
    page = client.get("/account/two-step").get_data(as_text=True)
    secret = page.split('<code class="totp-secret">')[1].split("</code>")[0].replace(" ", "")
    shown = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    codes = [part.split("</code>")[0] for part in shown.split("<code>")[1:]]
    return secret, codes


def test_the_key_is_stored_sealed_and_codes_still_work(app, client, auth):
    auth.login()
    user = db.session.scalars(select(User)).one()
    secret, codes = set_up_on_the_page(client)
    assert len(secret) == 32 and len(codes) == 10
    stored = stored_key(user.id)
    assert stored and secret not in stored and stored.startswith("gAAAAA")  # a Fernet token
    assert secret.lower() not in stored.lower()
    # The activity log says the key changed, never what it is.
    logged = " ".join(str(entry.changes) for entry in db.session.scalars(select(ActivityEntry)))
    assert secret not in logged and stored not in logged

    client.post("/logout")
    enter_password(client)
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the code now was spent turning it on
    assert client.post("/login/code", data={"code": next_code}).status_code == 302
    assert signed_in(client)
    assert stored_key(user.id) == stored  # sealed under the current key already: not rewritten


def test_an_old_secret_key_still_opens_the_key_and_it_is_sealed_again_under_the_new_one(make_app, make_user):
    before = make_app(SECRET_KEY="the key before")
    with before.app_context():
        user = make_user()
        secret = two_step.start_setup(user)
        two_step.enable(user)
        db.session.commit()
        user_id = user.id
        old_token = stored_key(user_id)

    rotated = make_app(SECRET_KEY="the key after", OLD_SECRET_KEYS=["the key before"])
    client = rotated.test_client()
    enter_password(client)
    assert client.post("/login/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    with rotated.app_context():
        new_token = stored_key(user_id)
    assert new_token != old_token

    after_only = make_app(SECRET_KEY="the key after")  # the old key gone from OLD_SECRET_KEYS
    with after_only.app_context():
        assert two_step.secret_of(db.session.get(User, user_id)) == secret
        db.session.rollback()


def test_the_reseal_command_seals_every_key_under_the_current_secret_key(make_app, make_user):
    before = make_app(SECRET_KEY="the key before")
    with before.app_context():
        secrets = {}
        for email in ("owner@example.com", "helper@example.com"):
            user = make_user(email=email)
            secrets[user.id] = two_step.start_setup(user)
            two_step.enable(user)
        db.session.commit()
    stranger = make_app(SECRET_KEY="a key nobody kept")
    with stranger.app_context():
        lost = make_user(email="lost@example.com")
        two_step.start_setup(lost)
        two_step.enable(lost)
        db.session.commit()

    rotated = make_app(SECRET_KEY="the key after", OLD_SECRET_KEYS=["the key before"])
    with rotated.app_context():  # not the fixture app's, which make_user pushed
        result = rotated.test_cli_runner().invoke(args=["users", "reseal-two-step-keys"])
    assert result.exit_code == 0, result.output
    assert "Sealed 2 two-step sign-in key(s)" in result.output and "lost@example.com" in result.output
    after_only = make_app(SECRET_KEY="the key after")
    with after_only.app_context():
        for user_id, secret in secrets.items():
            assert two_step.secret_of(db.session.get(User, user_id)) == secret
        db.session.rollback()


def test_a_key_this_server_cannot_read_sends_the_person_to_a_recovery_code(make_app, make_user):
    before = make_app(SECRET_KEY="the key before")
    with before.app_context():
        make_user(email="owner@example.com")
        helper = make_user(email="helper@example.com", role="staff")
        secret = two_step.start_setup(helper)
        codes = two_step.enable(helper)
        db.session.commit()
        helper_id = helper.id

    changed = make_app(SECRET_KEY="a new key, the old one lost")
    client = changed.test_client()
    enter_password(client, email="helper@example.com")
    refused = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 401 and "Use one of your recovery codes" in page
    assert not signed_in(client)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 302
    assert signed_in(client)
    # Their two-step page does not break either; turning it off takes the password and a recovery code.
    assert client.get("/account/two-step").status_code == 200

    # The owner resets it from the users page: the helper's sessions end, and the password alone signs in.
    owner = changed.test_client()
    enter_password(owner)
    users_page = owner.get("/users").get_data(as_text=True)
    assert f"/users/{helper_id}/two-step/reset" in users_page
    response = owner.post(f"/users/{helper_id}/two-step/reset")
    assert response.status_code == 302
    assert "Two-step sign-in is off for helper@example.com" in owner.get("/users").get_data(as_text=True)
    assert not signed_in(client)
    assert enter_password(client, email="helper@example.com").headers["Location"] == "/board"
    with changed.app_context():
        helper = db.session.get(User, helper_id)
        assert not helper.two_step_enabled and helper.totp_secret_sealed is None
        db.session.rollback()


def test_the_owner_cannot_reset_their_own_two_step_sign_in_from_the_users_page(app, client, make_user):
    owner = make_user()
    totp = pyotp.TOTP(two_step.start_setup(owner))
    two_step.enable(owner)
    db.session.commit()
    enter_password(client)
    client.post("/login/code", data={"code": totp.now()})
    refused = client.post(f"/users/{owner.id}/two-step/reset")
    assert refused.status_code == 422 and "needs your password and a code" in refused.get_data(as_text=True)
    db.session.refresh(owner)
    assert owner.two_step_enabled
    nobody = make_user(email="plain@example.com", role="staff")
    refused = client.post(f"/users/{nobody.id}/two-step/reset")
    assert refused.status_code == 422 and "has no two-step sign-in to reset" in refused.get_data(as_text=True)


@pytest.fixture
def scratch_database(tmp_path, redis_server):
    """An empty database of its own (a schema of its own on PostgreSQL), for running the migrations up and down."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite3")
        return
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS sealing_migration CASCADE"))
        connection.execute(text("CREATE SCHEMA sealing_migration"))
    yield url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dsealing_migration"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA sealing_migration CASCADE"))
    engine.dispose()


def test_the_migration_seals_the_keys_already_stored_and_the_downgrade_opens_them(scratch_database, redis_server):
    shop = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database, "REDIS_URL": redis_server["url"],
                       "SECRET_KEY": "the shop's key", "TESTING": True})
    secret = pyotp.random_base32()
    with shop.app_context():
        upgrade(revision=BEFORE_SEALING)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (email, password_hash, role, created_at, totp_secret, session_generation, active) "
                "VALUES ('owner@example.com', 'x', 'owner', CURRENT_TIMESTAMP, :secret, 0, TRUE)"), {"secret": secret})
        upgrade()
        with db.engine.connect() as connection:
            sealed = connection.execute(text("SELECT totp_secret_sealed FROM users")).scalar()
        assert sealed and secret not in sealed
        user = db.session.scalars(select(User)).one()
        assert two_step.secret_of(user) == secret  # the app opens what the migration sealed
        db.session.remove()
        downgrade(revision=BEFORE_SEALING)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT totp_secret FROM users")).scalar() == secret
        db.session.remove()
        db.engine.dispose()


def test_sessions_and_feedback_links_signed_with_an_old_secret_key_still_open_while_it_is_listed(make_app,
                                                                                                 make_user):
    from itsdangerous import URLSafeTimedSerializer

    from webapp.feedback.links import SALT, LinkInvalid, order_number_from

    before = make_app(SECRET_KEY="the key before")
    with before.app_context():
        make_user()
    client = before.test_client()
    enter_password(client)
    assert signed_in(client)
    link_token = URLSafeTimedSerializer("the key before", salt=SALT).dumps({"order": "SO-000042"})

    rotated = make_app(SECRET_KEY="the key after", OLD_SECRET_KEYS=["the key before"])
    client.application = rotated
    assert signed_in(client)  # the session cookie signed with the old key
    with rotated.app_context():
        assert order_number_from(link_token) == "SO-000042"

    forgotten = make_app(SECRET_KEY="the key after")  # the old key no longer listed
    client.application = forgotten
    assert not signed_in(client)
    with forgotten.app_context():
        with pytest.raises(LinkInvalid):
            order_number_from(link_token)
