"""The JSON API under /api/v1: Bearer tokens, JSON errors ``{"errors": {field: [messages]}}``."""
from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request

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
    """Every API call needs ``Authorization: Bearer <token>``."""
    if request.endpoint in PUBLIC_API_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = find_api_token(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
    if token is None:
        db.session.rollback()
        return error_response(401, {"authorization": ["a valid Bearer token is required"]},
                              {"WWW-Authenticate": 'Bearer realm="solo-oms"'})
    g.api_token = token
    return None


def requires_scope(scope: str):
    """Refuse the call (403) unless the token carries ``scope``."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not g.api_token.allows(scope):
                return error_response(403, {"authorization": [f"this token lacks the {scope} scope"]})
            return view(*args, **kwargs)
        return wrapper
    return decorator


def api_actor() -> str:
    return f"{g.api_token.user.email} (API)"


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response
