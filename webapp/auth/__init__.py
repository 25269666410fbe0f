"""Signing in: sessions for people, the first-owner setup, and the gate in front of every page."""
from flask import Flask, redirect, request, url_for
from flask_login import current_user

from webapp.auth.models import User
from webapp.extensions import db, login_manager
from webapp.sqlite_locking import READ_ONLY_METHODS
from webapp.webhooks import PUBLIC_WEBHOOK_ENDPOINTS

# Endpoints anyone may open. Everything else needs a session (pages) or a token (/api/v1).
# feedback.give_feedback checks its own signed link instead (DESIGN.md §8: signed customer links).
PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "health.healthz", "static", "assets.vendor", "feedback.give_feedback",
                    "metrics.metrics"}  # /metrics checks its own: localhost or the METRICS_TOKEN


def init_app(app: Flask) -> None:
    from webapp.auth import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.users)
    app.cli.add_command(cli.tokens)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # "basic": a changed network (a phone moving to 4G) marks the session not fresh instead of ending it.
    login_manager.session_protection = "basic"
    app.before_request(require_sign_in)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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
    if current_user.role == "viewer" and request.method not in READ_ONLY_METHODS:
        return "Your account can look but not change anything.", 403
    return None
