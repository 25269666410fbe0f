"""An unchanged board poll is answered before the sign-in machinery loads the user (webapp/board/polls.py), and
it never answers 304 where the usual way would not: every way a session ends still ends it on the next poll."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from tests.factories import order_in_status
from tests.test_board import HTMX, count_queries
from tests.test_remembered_devices import remembered_client
from tests.test_sign_in_security import browsers_are_separate, enter_password  # noqa: F401 - autouse fixture
from webapp.auth.models import User
from webapp.auth.sessions import SEEN_AT, SIGNED_IN_AT
from webapp.board.polls import _POLL_ENGINES, _engine_for_polls
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.timekeeping import utcnow

DAY = 86400


@pytest.fixture
def shop(app, make_product):
    make_product("MUG-BLU", stock=100)
    return {status: order_in_status(status) for status in ("on_hold", "confirmed")}


def current_etag(client, query: str = "") -> str:
    """The board's ETag, once a poll with it really answers 304 (the tag also turns over each minute)."""
    for _ in range(3):
        etag = client.get(f"/board{query}", headers=HTMX).headers["ETag"]
        if client.get(f"/board{query}", headers={**HTMX, "If-None-Match": etag}).status_code == 304:
            return etag
    raise AssertionError("the unchanged board never answered 304")


def poll(client, etag: str, query: str = ""):
    return client.get(f"/board{query}", headers={**HTMX, "If-None-Match": etag})


def test_an_unchanged_poll_is_answered_without_a_statement_through_sqlalchemy(app, client, auth, shop):
    auth.login()
    etag = current_etag(client)
    with count_queries() as queries:
        answer = poll(client, etag)
    if answer.status_code != 304:  # the minute turned between the two requests
        etag = current_etag(client)
        with count_queries() as queries:
            answer = poll(client, etag)
    assert answer.status_code == 304 and answer.data == b""
    assert answer.headers["ETag"] == etag and answer.headers["Cache-Control"] == "no-cache, private"
    assert "HX-Request" in answer.headers["Vary"] and "Content-Security-Policy" in answer.headers
    assert queries == []  # neither the user's load nor the board's state went the usual way


def test_a_poll_after_an_order_changed_gets_the_new_board(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    client.post(f"/orders/{shop['confirmed'].number}/transitions", data={"to": "processing"})
    changed = poll(client, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert shop["confirmed"].number in changed.get_data(as_text=True)


def test_a_last_change_on_a_whole_second_still_answers_304_without_a_statement(client, auth, shop):
    """SQLite hands the stored text of the time ("...:05.000000"): the answer must read it as the usual way does."""
    db.session.execute(update(Order).values(updated_at=utcnow().replace(microsecond=0) + timedelta(days=1)))
    db.session.commit()
    auth.login()
    etag = current_etag(client)
    with count_queries() as queries:
        answer = poll(client, etag)
    assert answer.status_code == 304 and (queries == [] or current_etag(client) != etag)


def test_a_switched_off_person_is_sent_to_sign_in_at_the_next_poll(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    db.session.execute(update(User).values(active=False))
    db.session.commit()
    answer = poll(client, etag)
    assert answer.status_code == 401 and "/login" in answer.headers["HX-Redirect"]


def test_signing_out_everywhere_ends_the_other_browsers_polls(app, client, auth, shop):
    auth.login()
    etag = current_etag(client)
    other = app.test_client()
    enter_password(other)
    other.post("/account/sign-out-everywhere")
    assert poll(client, etag).status_code == 401
    assert poll(other, current_etag(other)).status_code == 304  # the browser that asked stays signed in


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30)
def test_an_idle_session_ends_at_the_next_poll_and_polls_do_not_keep_it_alive(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 31 * 60
    answer = poll(client, etag)
    assert answer.status_code == 401
    assert "without activity" in client.get("/login").get_data(as_text=True)


@pytest.mark.app_config(SESSION_MAX_DAYS=7)
def test_a_session_older_than_the_max_days_ends_at_the_next_poll(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = int(time.time()) - 8 * DAY
    assert poll(client, etag).status_code == 401


def test_a_new_role_changes_the_board_and_a_viewer_still_polls(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    db.session.execute(update(User).values(role="viewer"))
    db.session.commit()
    answer = poll(client, etag)
    assert answer.status_code == 200 and "/transitions" not in answer.get_data(as_text=True)  # a viewer: no actions
    with count_queries() as queries:
        again = poll(client, answer.headers["ETag"])
    assert again.status_code == 304 and queries == []


def test_a_session_seen_from_another_browser_goes_the_usual_way_until_it_is_marked_not_fresh(client, auth, shop):
    """Flask-Login's session protection ("basic") marks such a session not fresh the first time and goes on: that
    first poll goes the usual way (which writes the mark); after it, the usual way would change nothing."""
    auth.login()
    etag = current_etag(client)
    client.environ_base["HTTP_USER_AGENT"] = "another browser"
    with count_queries() as queries:
        answer = poll(client, etag)
    assert answer.status_code == 304 and queries != []
    with client.session_transaction() as session:
        assert session["_fresh"] is False
    with count_queries() as queries:
        again = poll(client, etag)
    assert again.status_code == 304 and queries == []


@pytest.mark.app_config(SESSION_PROTECTION="strong")
def test_strong_session_protection_is_left_to_the_usual_way(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    client.environ_base["HTTP_USER_AGENT"] = "another browser"
    assert poll(client, etag).status_code == 401  # strong mode ends the session
    assert poll(client, etag).status_code == 401


def test_a_remembered_device_without_its_session_goes_the_usual_way_once(app, make_user, shop):
    make_user()
    client = remembered_client(app)
    etag = current_etag(client)  # the first request brought the session back from the remember cookie
    client.delete_cookie("session")
    with count_queries() as queries:
        answer = poll(client, etag)
    assert answer.status_code == 304 and queries != []  # the remember cookie starts a session again
    with count_queries() as queries:
        again = poll(client, etag)
    assert again.status_code == 304 and queries == []


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30)
def test_a_page_reloaded_with_its_etag_goes_the_usual_way_and_counts_as_activity(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    ten_minutes_ago = int(time.time()) - 600
    with client.session_transaction() as session:
        session[SEEN_AT] = ten_minutes_ago
    with count_queries() as queries:
        answer = client.get("/board", headers={"If-None-Match": etag})
    assert queries != [] and answer.status_code in (200, 304)
    with client.session_transaction() as session:
        assert session[SEEN_AT] > ten_minutes_ago


def test_no_session_or_a_forged_one_gets_sign_in(client, auth, shop):
    auth.login()
    etag = current_etag(client)
    stranger = client.application.test_client()
    assert poll(stranger, etag).status_code == 401
    stranger.set_cookie("session", client.get_cookie("session").value[:-4] + "AAAA")
    assert poll(stranger, etag).status_code == 401


@pytest.mark.parametrize("query", ["?column=nope", "?channel=fax", "?q=" + "x" * 101])
def test_bad_filters_on_a_poll_are_named_as_ever(client, auth, shop, query):
    auth.login()
    etag = current_etag(client)
    answer = poll(client, etag, query)
    assert answer.status_code == 400 and answer.headers["ETag"]


def test_a_filtered_poll_is_answered_for_its_own_filters(client, auth, shop):
    auth.login()
    etag = current_etag(client, "?channel=web&tab=confirmed")
    assert etag != current_etag(client)
    with count_queries() as queries:
        answer = poll(client, etag, "?channel=web&tab=confirmed")
    assert answer.status_code == 304 and queries == []
    assert poll(client, etag).status_code == 200  # the same tag is not the unfiltered board's


def idle_in_transaction() -> int:
    """Connections to the test database (this one aside) left inside a transaction."""
    return db.session.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar_one()


def test_on_a_server_a_poll_reads_outside_any_transaction_and_survives_a_dropped_connection(app, client, auth, shop):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a database server's connections")
    auth.login()
    etag = current_etag(client)
    db.session.commit()
    assert poll(client, etag).status_code == 304 and idle_in_transaction() == 0
    # The server drops every other connection (a restart, an idle timeout): the polls' pooled one too.
    db.session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    db.session.commit()
    with count_queries() as queries:
        answer = poll(client, etag)
    assert answer.status_code == 304 and queries != []  # the usual way answered, on a fresh connection
    with count_queries() as queries:
        answer = poll(client, etag)
    assert answer.status_code == 304 and queries == []  # and the next poll is answered fast again


def test_the_polls_connections_close_with_the_apps(app, client, auth, shop):
    auth.login()
    assert poll(client, current_etag(client)).status_code == 304
    engine = db.engine
    polls = _engine_for_polls()
    db.session.remove()  # its connection back in the pool, which dispose closes
    engine.dispose()
    assert engine not in _POLL_ENGINES
    assert polls is engine or polls.pool.checkedin() == 0
