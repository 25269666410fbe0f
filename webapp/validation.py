"""Rules every input shares: strict JSON models, no control characters, money that fits the columns,
whole numbers in query strings, and errors that name the field."""
import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CENT = Decimal("0.01")
# Numeric(12, 2): the largest amount a money column holds.
MAX_MONEY = Decimal("9999999999.99")
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, max_digits=12, decimal_places=2, allow_inf_nan=False)]
# The most units of one product on one order line; also keeps a quantity inside an integer column.
MAX_QUANTITY = 100_000
# C0 control characters other than tab, newline and carriage return; PostgreSQL refuses NUL outright.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class StrictInput(BaseModel):
    """A request body: unknown fields are an error, text is trimmed and may not hold control characters."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise ValueError("must not contain control characters")
        return value


def clean_text(value: str, limit: int = 100) -> str:
    """Search text from a query string: control characters dropped, trimmed, at most ``limit`` characters."""
    return CONTROL_CHARACTERS.sub("", value).strip()[:limit]


def whole_number(raw: str | None, *, default: int, maximum: int = 1_000_000) -> int | None:
    """A query-string whole number from 0 to ``maximum`` (ASCII digits only), ``default`` when absent,
    None when it is not one."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(maximum)) or int(raw) > maximum:
        return None
    return int(raw)


_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must have at most {max_length} items",
    "decimal_parsing": "must be an amount such as \"12.50\"",
    "decimal_type": "must be an amount such as \"12.50\"",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_max_digits": "is too large",
    "finite_number": "must be a finite amount",
    "date_from_datetime_parsing": "must be a date as YYYY-MM-DD",
    "date_parsing": "must be a date as YYYY-MM-DD",
    "date_type": "must be a date as YYYY-MM-DD",
    "string_pattern_mismatch": "has the wrong format",
    "literal_error": "must be one of: {expected}",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Turn pydantic's errors into ``{"lines.0.quantity": ["must be greater than 0"]}``."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        template = _FRIENDLY.get(item["type"])
        if template:
            try:
                message = template.format(**(item.get("ctx") or {}))
            except (KeyError, IndexError):
                message = template
        elif item["type"] == "value_error" and "email" in field:
            message = "is not a valid email address"
        elif item["type"] == "value_error":
            message = str(item.get("ctx", {}).get("error") or item["msg"])
        else:
            message = item["msg"]
        errors.setdefault(field, []).append(message)
    return errors


DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_day(raw: str | None) -> date | None:
    """A date written YYYY-MM-DD between the years 1900 and 2999 (so that a range and the period before it stay
    within what dates and time zones can handle), else None."""
    if not raw or not DAY_PATTERN.match(raw):
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None
