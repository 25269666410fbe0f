"""Error pages: clear words for people, JSON for the API; never a bare 500 for bad input."""
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _csrf_error(error: CSRFError):
    message = "The form expired or was sent from elsewhere. Reload the page and try again."
    return render_template("error.html", code=400, message=message), 400


def _http_error(error: HTTPException):
    if _wants_json():
        return jsonify(errors={"request": [error.description or error.name]}), error.code
    return render_template("error.html", code=error.code, message=error.description), error.code
