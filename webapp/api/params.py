"""Reading JSON bodies and query strings, with errors that name what is wrong."""
from flask import request
from pydantic import BaseModel, ValidationError

from webapp.validation import field_errors, whole_number


class BadInput(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def json_body(model: type[BaseModel]):
    """Parse and validate the request body as ``model``; raise BadInput naming the fields."""
    try:
        data = request.get_json(silent=True, force=True)
    except RecursionError:  # absurdly deep nesting
        data = None
    if data is None:
        raise BadInput({"body": ["must be a JSON object (send Content-Type: application/json)"]})
    if not isinstance(data, dict):
        raise BadInput({"body": ["must be a JSON object"]})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadInput(field_errors(error)) from error


def page_number() -> int:
    raw = request.args.get("page")
    # Unlike a web form, an API client that sends ``page=`` means something it did not say: refuse it.
    page = None if raw == "" else whole_number(raw, default=1, maximum=100_000)
    if not page:
        raise BadInput({"page": ["must be a whole number from 1 to 100000"]})
    return page
