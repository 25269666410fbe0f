"""The shape of a product and of a stock change, shared by the API and the product forms."""
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StrictInt, ValidationInfo, field_validator

from webapp.validation import Money, StrictInput

# Letters, digits and . _ - (no slash: a SKU is part of the product's URL).
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class ProductIn(StrictInput):
    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit_price: Money
    unit_cost: Money | None = None
    reorder_point: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0
    lead_time_days: Annotated[StrictInt, Field(ge=0, le=365)] = 7
    supplier_email: EmailStr | None = None
    active: bool = True


class StockChangeIn(StrictInput):
    kind: Literal["adjust", "receive"] = "adjust"  # before delta: delta's check reads it
    delta: Annotated[StrictInt, Field(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @field_validator("delta")
    @classmethod
    def _a_real_change(cls, delta: int, info: ValidationInfo) -> int:
        if delta == 0:
            raise ValueError("must change the stock by at least one unit")
        if info.data.get("kind") == "receive" and delta < 0:
            raise ValueError("must be positive when receiving stock")
        return delta
