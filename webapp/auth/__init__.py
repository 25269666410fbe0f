"""Signing in: sessions for people, the first-owner setup, and the gate in front of every page."""
from flask import Flask, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select

from webapp.auth.access import PUBLIC_ENDPOINTS, can_open, needs_session, refuse_unless_allowed
from webapp.auth.models import User
from webapp.auth.sessions import past_max_age, read_session_user_id
from webapp.extensions import db, login_manager

__all__ = ["PUBLIC_ENDPOINTS", "init_app"]


def init_app(app: Flask) -> None:
    from webapp.auth import account, cli, routes, sessions

    app.register_blueprint(routes.bp)
    app.register_blueprint(account.bp)
    app.cli.add_command(cli.users)
    app.cli.add_command(cli.tokens)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # "basic": a changed network (a phone moving to 4G) marks the session not fresh instead of ending it.
    login_manager.session_protection = "basic"
    sessions.init_app(app)  # expired sessions end before the gate below looks at them
    app.before_request(require_sign_in)
    app.jinja_env.globals.update(can_open=can_open)


# Built once: every signed-in request runs it, and building and keying it anew cost ~0.1 ms (a tenth of a poll).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie ("id:generation:signed in at", see webapp.auth.sessions), unless
    they have since signed out everywhere, been switched off by the owner, or signed in longer ago than
    SESSION_MAX_DAYS."""
    read = read_session_user_id(user_id)
    if read is None or past_max_age(read[2]):
        return None
    user_key, generation, _ = read
    user = db.session.execute(_USER_BY_ID, {"user_id": user_key}).scalar_one_or_none()
    return user if still_signed_in(user, generation) else None


def still_signed_in(user, generation: int) -> bool:
    """Whether a session of ``generation`` still belongs to ``user`` (a User, or a row with its active flag and
    session generation): the user exists, is switched on, and has not signed out everywhere since."""
    return user is not None and bool(user.active) and user.session_generation == generation


def require_sign_in():
    """Send anyone without a session to the sign-in page (HTMX requests get HX-Redirect), and refuse what their
    role may not do (webapp.auth.access holds the table)."""
    if request.endpoint is None or not needs_session(request.endpoint):
        return None
    if not current_user.is_authenticated:
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.htmx:
            return "", 401, {"HX-Redirect": target}
        return redirect(target)
    return refuse_unless_allowed()
