"""Error pages: clear words for people, JSON for the API; never a bare 500 for bad input."""
import time
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)
    app.register_error_handler(HTTPException, _http_error)


def refuse_nul_characters():
    """A NUL character is never meaningful in a URL or a form, and PostgreSQL refuses it: say so up front."""
    if "\x00" in request.path:
        abort(400, "The address contains a NUL character.")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            abort(400, f"The query parameter {name!r} contains a NUL character.")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, f"The form field {name!r} contains a NUL character.")


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def _csrf_error(error: CSRFError):
    message = "The form expired or was sent from elsewhere. Reload the page and try again."
    return render_template("error.html", code=400, message=message), 400


def _too_many_attempts(error: RateLimitExceeded):
    """Say when to try again (and send Retry-After), instead of only the limit that was hit."""
    from webapp.extensions import limiter
    from webapp.timekeeping import shop_zone

    breached = limiter.current_limit
    reset_at = int(breached.reset_at) if breached else int(time.time()) + 60
    seconds = max(1, reset_at - int(time.time()))
    wait = f"{seconds} seconds" if seconds < 120 else f"{-(-seconds // 60)} minutes"
    clock = datetime.fromtimestamp(reset_at, UTC).astimezone(shop_zone()).strftime("%H:%M:%S")
    message = f"Too many attempts ({error.description}). Try again in {wait}, at {clock}."
    headers = {"Retry-After": str(seconds)}
    if _wants_json():
        return jsonify(errors={"request": [message]}), 429, headers
    return render_template("error.html", code=429, message=message), 429, headers


def _http_error(error: HTTPException):
    if _wants_json():
        return jsonify(errors={"request": [error.description or error.name]}), error.code
    return render_template("error.html", code=error.code, message=error.description), error.code
