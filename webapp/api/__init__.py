"""The JSON API under /api/v1: Bearer tokens, JSON errors ``{"errors": {field: [messages]}}``."""
from flask import Blueprint, Flask, current_app, g, jsonify, request

from webapp.auth.tokens import find_api_token
from webapp.extensions import csrf, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_API_ENDPOINTS = {"api.openapi_document"}


def init_app(app: Flask) -> None:
    from webapp.api import analytics, openapi, orders, products  # noqa: F401 - they add routes to bp

    csrf.exempt(bp)  # token-authenticated, no cookies: CSRF does not apply
    app.register_blueprint(bp)


def error_response(status: int, errors: dict[str, list[str]], headers: dict | None = None):
    return jsonify(errors=errors), status, headers or {}


@bp.before_request
def authenticate():
    """Every API call needs ``Authorization: Bearer <token>`` carrying the scope its endpoint asks for."""
    if request.endpoint in PUBLIC_API_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = find_api_token(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
    if token is None:
        db.session.rollback()
        return error_response(401, {"authorization": ["a valid Bearer token is required"]},
                              {"WWW-Authenticate": 'Bearer realm="solo-oms"'})
    g.api_token = token
    scope = getattr(current_app.view_functions[request.endpoint], "required_scope", None)
    if scope is None:  # checked here rather than in each view, so an endpoint without a scope is closed to all
        return error_response(403, {"authorization": ["this endpoint declares no scope, so no token may call it"]})
    if not token.allows(scope):
        return error_response(403, {"authorization": [f"this token lacks the {scope} scope"]})
    return None


def requires_scope(scope: str):
    """Declare the scope a token needs to call this endpoint; ``authenticate`` checks it before the view runs."""
    def decorator(view):
        view.required_scope = scope
        return view
    return decorator


def api_actor() -> str:
    return f"{g.api_token.user.email} (API)"


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response
