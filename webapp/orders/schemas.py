"""The shape of an incoming order, shared by the JSON API and the order entry form.

Validation errors become ``{"field.path": ["message"]}`` so both the API and the form can name the field.
"""
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictInt, ValidationError, field_validator

from webapp.orders.models import CHANNELS, PRIORITIES

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressIn(_Strict):
    line1: Text | None = None
    line2: Text | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class CustomerIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    address: AddressIn | None = None


class LineIn(_Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[StrictInt, Field(gt=0, le=100_000)]
    unit_price: Money | None = None


class OrderIn(_Strict):
    customer: CustomerIn
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    channel: Literal[CHANNELS] = "api"  # type: ignore[valid-type]
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    due_date: date | None = None
    shipping: Money = Decimal("0.00")
    shipping_method: Annotated[str, Field(max_length=64)] | None = None
    notes: Annotated[str, Field(max_length=5000)] = ""
    external_ref: Annotated[str, Field(max_length=100)] | None = None


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
        else:
            message = item["msg"]
        errors.setdefault(field, []).append(message)
    return errors
