"""An unchanged board poll answered 304 before the sign-in machinery loads the user.

Every open board asks every few seconds whether anything changed, and almost always nothing has. Answering that
through the usual gate cost five times a bare request: Flask-Login loads the user as an ORM object, the sign-in
gate checks the role, the view reads the board's state in a second statement. Here one plain statement reads the
user's sign-in state with the board's (webapp.board.columns.version_of), and the very same checks run on it:
the session has not expired (webapp.auth.sessions.expiry_reason), Flask-Login's session protection would change
nothing, the user still exists, is switched on and has not signed out everywhere (webapp.auth.still_signed_in),
the role may open the board. Only when all of that holds and the ETag still matches is the 304 given here; in
every other case (a change, a remember cookie instead of a session, an expired session, a switched-off user, bad
filters, a page reloaded rather than polled, anything unusual) this answers nothing and the request goes the
usual way, which decides it.
"""
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import NamedTuple

from flask import Flask, current_app, make_response, request, session
from sqlalchemy import bindparam, create_engine, event, select
from sqlalchemy.engine import Dialect, Engine

from webapp.auth import still_signed_in
from webapp.auth.access import role_may
from webapp.auth.models import User
from webapp.auth.sessions import end_expired_session, expiry_reason, past_max_age, read_session_user_id
from webapp.board.columns import LAST_CHANGE, SHOP_TIME_ZONE, read_filters, version_of
from webapp.extensions import db, login_manager
from webapp.views import is_fragment_request

BOARD = "board.board"

# The user's sign-in state and the board's state, in one statement built once.
_POLL_STATEMENT = (select(User.active, User.session_generation, User.role, LAST_CHANGE, SHOP_TIME_ZONE)
                   .where(User.id == bindparam("user_id")))


class PollState(NamedTuple):
    active: bool
    session_generation: int
    role: str
    last_change: datetime | str | None
    time_zone: str | None


@cache
def _compiled(dialect: Dialect) -> tuple[str, Callable[[int], tuple | dict]]:
    """_POLL_STATEMENT as the driver's SQL and a function giving its parameters for a user id."""
    compiled = _POLL_STATEMENT.compile(dialect=dialect)
    if compiled.positiontup is None:
        return compiled.string, lambda user_key: compiled.construct_params({"user_id": user_key})
    return compiled.string, lambda user_key: tuple(
        compiled.construct_params({"user_id": user_key})[name] for name in compiled.positiontup)


def _read_state(user_key: int) -> PollState | None:
    """One read straight through the driver, outside any transaction (a single statement sees one state of the
    database). Through SQLAlchemy's Connection the same read cost ten times as much: a transaction begun and
    rolled back, result processing, events. The values come as the driver gives them (SQLite: the stored text of
    the last change, 1 for true); version_of and still_signed_in read them as such. None when there is nothing to
    answer from: no such user, or a server connection that turned out dead (the usual way, whose connections are
    tested as they are taken, then answers this poll)."""
    engine = _engine_for_polls()
    sql, parameters = _compiled(engine.dialect)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, parameters(user_key))
            row = cursor.fetchone()
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.OperationalError:
        if engine is db.engine:
            raise
        connection.invalidate()  # dropped by the server (restarted, idle timeout): the next poll opens another
        return None
    finally:
        connection.close()  # back to the pool (SQLite: which rolls back whatever the driver began)
    return None if row is None else PollState(*row)


# Per app engine (a database server only): the engine the polls read through.
_POLL_ENGINES: dict[Engine, Engine] = {}
_POLL_ENGINES_MADE = threading.Lock()


def _engine_for_polls() -> Engine:
    """The engine polls read through. For SQLite, the app's own. For a server, a second small pool on the same
    URL whose connections run in autocommit and are not tested as they are taken: the app's pool tests each
    connection (a round trip), the driver begins a transaction for the read (another) and the pool rolls it back
    (a third), so a 304 waited four round trips for one read. A connection the server dropped costs one poll its
    fast answer (see _read_state). Disposed with the app's engine."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return engine
    polls = _POLL_ENGINES.get(engine)
    if polls is not None:
        return polls
    with _POLL_ENGINES_MADE:
        polls = _POLL_ENGINES.get(engine)
        if polls is not None:
            return polls
        options = {key: value for key, value in current_app.config["SQLALCHEMY_ENGINE_OPTIONS"].items()
                   if key != "pool_pre_ping"}
        polls = _POLL_ENGINES[engine] = create_engine(
            engine.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options)
        event.listen(engine, "engine_disposed", lambda disposed: _POLL_ENGINES.pop(disposed, polls).dispose())
        return polls


def _protection_changes_nothing() -> bool:
    """Whether Flask-Login's session protection would leave this session as it is. In "basic" mode a session seen
    from another browser or address than the one that signed in (and a remembered device's session, which never
    had one) is marked not fresh and goes on; once it is so marked, the usual way changes nothing more and loads
    the user, so the answer here may too. "strong" mode ends such a session: the usual way decides."""
    if session.get("_id") == login_manager._session_identifier_generator():
        return True
    mode = current_app.config.get("SESSION_PROTECTION", login_manager.session_protection)
    return mode == "basic" and session.get("_fresh") is False


def init_app(app: Flask) -> None:
    """Answer polls right before the session's expiry check and the sign-in gate (after the request id, the
    metrics timer and the NUL check, which every request gets)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(hooks.index(end_expired_session), answer_unchanged_poll)


def answer_unchanged_poll():
    """304 for a signed-in board poll whose ETag is still current; None (the usual way) for anything else."""
    # The board's own polls only (HTMX): a page reloaded by the person counts as activity, which the usual way
    # notes in the session.
    if request.endpoint != BOARD or request.method != "GET" or not request.if_none_match or not is_fragment_request():
        return None
    read = read_session_user_id(session.get("_user_id") or "")
    if read is None or past_max_age(read[2]) or expiry_reason(int(time.time())) is not None:
        return None
    if not _protection_changes_nothing():
        return None
    filters, errors = read_filters(request.args)
    if errors:
        return None
    user_key, generation, _ = read
    row = _read_state(user_key)
    if row is None or not still_signed_in(row, generation) or not role_may(row.role, BOARD):
        return None
    version, _ = version_of(filters, row.role, row.last_change, row.time_zone)
    if version not in request.if_none_match:
        return None
    response = make_response("", 304)
    response.set_etag(version)
    response.headers["Cache-Control"] = "no-cache, private"
    return response
