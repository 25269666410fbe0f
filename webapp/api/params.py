"""Reading JSON bodies and query strings, with errors that name what is wrong."""
from flask import request
from pydantic import BaseModel, ValidationError

from webapp.orders.schemas import field_errors


class BadInput(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def json_body(model: type[BaseModel]):
    """Parse and validate the request body as ``model``; raise BadInput naming the fields."""
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise BadInput({"body": ["must be a JSON object (send Content-Type: application/json)"]})
    if not isinstance(data, dict):
        raise BadInput({"body": ["must be a JSON object"]})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadInput(field_errors(error)) from error


def page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or int(raw) > 100_000:
        raise BadInput({"page": ["must be a whole number from 1"]})
    return int(raw)
