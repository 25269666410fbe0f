"""The shape of an incoming order, shared by the JSON API and the order entry form."""
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StrictInt, field_validator

from webapp.orders.models import CHANNELS, PRIORITIES
from webapp.validation import MAX_QUANTITY, Money, StrictInput

Text = Annotated[str, Field(max_length=200)]


class AddressIn(StrictInput):
    line1: Text | None = None
    line2: Text | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class CustomerIn(StrictInput):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    address: AddressIn | None = None


class LineIn(StrictInput):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[StrictInt, Field(gt=0, le=MAX_QUANTITY)]
    unit_price: Money | None = None


class OrderIn(StrictInput):
    customer: CustomerIn
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=500)]
    channel: Literal[CHANNELS] = "api"  # type: ignore[valid-type]
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    due_date: date | None = None
    shipping: Money = Decimal("0.00")
    shipping_method: Annotated[str, Field(max_length=64)] | None = None
    notes: Annotated[str, Field(max_length=5000)] = ""
    external_ref: Annotated[str, Field(max_length=100)] | None = None
