"""The shape of a product and of a stock change, shared by the API and the product forms."""
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictInt

from webapp.orders.schemas import Money

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit_price: Money
    unit_cost: Money | None = None
    reorder_point: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0
    lead_time_days: Annotated[StrictInt, Field(ge=0, le=365)] = 7
    supplier_email: EmailStr | None = None
    active: bool = True


class StockChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    delta: Annotated[StrictInt, Field(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    kind: Literal["adjust", "receive"] = "adjust"
