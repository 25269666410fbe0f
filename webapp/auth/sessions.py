"""Signed-in sessions: when they expire, remembered devices, and signing a user out of every other session at once.

A session carries when it was signed in and when it was last used (seconds since the epoch); it ends after
SESSION_IDLE_MINUTES without use or SESSION_MAX_DAYS after signing in, whichever comes first. Every session's and
remember cookie's user id is "<user id>:<session generation>:<signed in at>" (see User.get_id, load_user): raising
the generation ends them all, and one signed in longer ago than SESSION_MAX_DAYS is refused.

"Keep me signed in on this device" sets Flask-Login's remember cookie (signed with SECRET_KEY, expiring
SESSION_MAX_DAYS after signing in). A remembered session is not ended for being idle, which is what remembering a
device is for; when the browser has dropped the session, the cookie brings it back with the sign-in time it was
given, so it ends SESSION_MAX_DAYS after the password was typed however often it came back. Sign out everywhere
and switching the account off end it as any session (the generation and the active flag are checked at each load).
"""
import time

from flask import current_app, flash, request, session
from flask_login import login_user, logout_user
from flask_login.signals import user_loaded_from_cookie
from sqlalchemy import update

from webapp.activity.recording import record_bulk
from webapp.auth.models import User
from webapp.extensions import db

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
REMEMBERED = "remembered"
# Refresh "last used" at most once a minute, so that not every request rewrites the cookie.
SEEN_RESOLUTION_SECONDS = 60


def session_user_id(user: User, signed_in_at: int) -> str:
    """The id a session or remember cookie holds: the user's id and generation, and when they signed in."""
    return f"{user.get_id()}:{signed_in_at}"


def read_session_user_id(user_id: str) -> tuple[int, int, int] | None:
    """(user id, generation, signed in at) of a session's or remember cookie's id; None for anything else."""
    parts = user_id.split(":")
    if len(parts) != 3 or not all(part.isdigit() and len(part) <= 12 for part in parts):
        return None
    user_key, generation, signed_in_at = map(int, parts)
    return user_key, generation, signed_in_at


def past_max_age(signed_in_at: int) -> bool:
    return time.time() - signed_in_at > current_app.config["SESSION_MAX_DAYS"] * 86400


def sign_in(user: User, *, remember: bool = False, signed_in_at: int | None = None) -> None:
    """Start a session for a user who has passed every step of signing in; ``remember`` keeps this device signed
    in (a remember cookie). ``signed_in_at``: keep an earlier sign-in time (signing out everywhere else)."""
    signed_in_at = signed_in_at or int(time.time())
    login_user(user, remember=remember)
    # The remember cookie is written from this id at the end of the request, so it carries the sign-in time too.
    session["_user_id"] = session_user_id(user, signed_in_at)
    session[SIGNED_IN_AT] = signed_in_at
    session[SEEN_AT] = int(time.time())
    if remember:
        session[REMEMBERED] = True
    else:
        session.pop(REMEMBERED, None)


def _resume_remembered_session(*_args, **_kwargs) -> None:
    """A session brought back by the remember cookie keeps the cookie's sign-in time; its idle clock starts now."""
    read = read_session_user_id(session.get("_user_id", ""))
    session[SIGNED_IN_AT] = read[2] if read else 0
    session[SEEN_AT] = int(time.time())
    session[REMEMBERED] = True


def init_app(app) -> None:
    app.before_request(end_expired_session)
    user_loaded_from_cookie.connect(_resume_remembered_session, app)


def end_expired_session():
    """Before each request: sign out a session that was idle too long or is older than the absolute lifetime."""
    if "_user_id" not in session:
        return None
    now = int(time.time())
    reason = expiry_reason(now)
    if reason is None:
        if now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION_SECONDS and _is_activity():
            session[SEEN_AT] = now
        return None
    logout_user()  # and its remember cookie, if any
    for key in (SIGNED_IN_AT, SEEN_AT, REMEMBERED):
        session.pop(key, None)
    flash(f"{reason} Please sign in again.", "error")
    return None  # the sign-in gate that runs next sends the person to the sign-in page


def expiry_reason(now: int) -> str | None:
    """Why this request's session has ended (idle too long, or older than SESSION_MAX_DAYS), or None while it
    lasts. Only reads the session: end_expired_session acts on it, and so does the board's poll answer."""
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        signed_in_at = seen_at = 0  # clocks missing: not a session this app started
    if now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60 and not session.get(REMEMBERED):
        return f"You were signed out after {current_app.config['SESSION_IDLE_MINUTES']} minutes without activity."
    if now - signed_in_at > current_app.config["SESSION_MAX_DAYS"] * 86400:
        return f"Sessions last at most {current_app.config['SESSION_MAX_DAYS']} days."
    return None


def _is_activity() -> bool:
    """Background refreshes (the board polling itself: HTMX GETs) do not keep an unattended session alive."""
    return not (request.htmx and request.method == "GET")


def sign_out_everywhere(user: User) -> None:
    """End every session and remember cookie of the user, then keep this request's session signed in.

    ``user`` is the User itself, not the current_user proxy (which login_user would then point at itself).
    """
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_generation=User.session_generation + 1)
                       .execution_options(synchronize_session=False))
    record_bulk(db.session, kind="user", thing_ref=user.email, thing_id=user.id, action="updated",
                note="Signed out everywhere: every other session and remember cookie ended.")
    # This session goes on as it was: remembered or not, and still ending SESSION_MAX_DAYS after its own sign-in
    # (signing out everywhere else must not extend it).
    signed_in_at, remembered = session.get(SIGNED_IN_AT), bool(session.get(REMEMBERED))
    db.session.commit()
    db.session.refresh(user)
    sign_in(user, remember=remembered, signed_in_at=signed_in_at if isinstance(signed_in_at, int) else None)
