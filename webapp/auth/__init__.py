"""Signing in: sessions for people, the first-owner setup, and the gate in front of every page."""
from flask import Flask, redirect, request, url_for
from flask_login import current_user

from webapp.auth.models import User
from webapp.extensions import db, login_manager
from webapp.sqlite_locking import READ_ONLY_METHODS
from webapp.webhooks import PUBLIC_WEBHOOK_ENDPOINTS

# Endpoints anyone may open. Everything else needs a session (pages) or a token (/api/v1).
# feedback.give_feedback checks its own signed link instead (DESIGN.md §8: signed customer links);
# /metrics checks its own: localhost or the METRICS_TOKEN. auth.login_code grants nothing without a passed password.
PUBLIC_ENDPOINTS = {"auth.login", "auth.login_code", "auth.setup", "health.healthz", "static", "assets.vendor",
                    "feedback.give_feedback", "metrics.metrics"}


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


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie, unless they have since signed out everywhere ("id:generation")."""
    user_key, _, generation = user_id.partition(":")
    if not (user_key.isdigit() and generation.isdigit()):
        return None
    user = db.session.get(User, int(user_key))
    return user if user is not None and user.session_generation == int(generation) else None


def require_sign_in():
    """Send anyone without a session to the sign-in page (HTMX requests get HX-Redirect)."""
    if (request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS or request.blueprint == "api"
            or request.endpoint in PUBLIC_WEBHOOK_ENDPOINTS):
        return None
    if not current_user.is_authenticated:
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.htmx:
            return "", 401, {"HX-Redirect": target}
        return redirect(target)
    # A viewer changes nothing in the shop, but may still sign out and look after their own account.
    if current_user.role == "viewer" and request.method not in READ_ONLY_METHODS \
            and request.blueprint not in ("auth", "account"):
        return "Your account can look but not change anything.", 403
    return None
