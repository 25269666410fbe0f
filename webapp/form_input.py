"""Reading an HTML form into one of the pydantic models the API uses, so both validate the same way."""
import re

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from webapp.validation import field_errors


def read_form(model: type[BaseModel], form: MultiDict, *, integers: tuple[str, ...] = (),
              booleans: tuple[str, ...] = ()) -> tuple[BaseModel | None, dict[str, list[str]]]:
    """Validate the form's fields named in ``model``; empty inputs count as not given.

    Whole-number fields arrive as text: digits (with a leading minus) become ints, anything else stays text
    and fails validation with a message naming the field.
    """
    data: dict = {}
    for name in model.model_fields:
        if name in booleans:
            data[name] = form.get(name) in ("on", "yes", "true", "1")
            continue
        raw = form.get(name, "").strip()
        if raw == "":
            continue
        if name in integers and re.fullmatch(r"-?[0-9]{1,9}", raw):
            data[name] = int(raw)
        else:
            data[name] = raw
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, field_errors(error)
