"""Signed-in sessions: when they expire, and signing a user out of every other session at once.

A session carries when it was signed in and when it was last used (seconds since the epoch); it ends after
SESSION_IDLE_MINUTES without use or SESSION_MAX_DAYS after signing in, whichever comes first. Every session and
remember cookie also holds the user's session generation (see User.get_id); raising it ends them all.
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
# Refresh "last used" at most once a minute, so that not every request rewrites the cookie.
SEEN_RESOLUTION_SECONDS = 60


def sign_in(user: User) -> None:
    """Start a session for a user who has passed every step of signing in."""
    login_user(user)
    _stamp_new_session()


def _stamp_new_session(*_args, **_kwargs) -> None:
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def init_app(app) -> None:
    app.before_request(end_expired_session)
    # A session rebuilt from a remember cookie starts its clocks afresh (the cookie itself lasts SESSION_MAX_DAYS).
    user_loaded_from_cookie.connect(_stamp_new_session, app)


def end_expired_session():
    """Before each request: sign out a session that was idle too long or is older than the absolute lifetime."""
    if "_user_id" not in session:
        return None
    now = int(time.time())
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        _stamp_new_session()  # a session from before these clocks existed
        return None
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    age_limit = current_app.config["SESSION_MAX_DAYS"] * 86400
    if now - seen_at > idle_limit:
        reason = f"You were signed out after {current_app.config['SESSION_IDLE_MINUTES']} minutes without activity."
    elif now - signed_in_at > age_limit:
        reason = f"Sessions last at most {current_app.config['SESSION_MAX_DAYS']} days."
    else:
        if now - seen_at >= SEEN_RESOLUTION_SECONDS and _is_activity():
            session[SEEN_AT] = now
        return None
    logout_user()
    session.pop(SIGNED_IN_AT, None)
    session.pop(SEEN_AT, None)
    flash(f"{reason} Please sign in again.", "error")
    return None  # the sign-in gate that runs next sends the person to the sign-in page


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
    db.session.commit()
    db.session.refresh(user)
    sign_in(user)
