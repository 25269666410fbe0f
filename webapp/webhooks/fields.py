"""Reading a platform's fields: text, objects, lists and amounts, with errors that name the platform's field."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from webapp.validation import CENT, MAX_MONEY


class PayloadError(Exception):
    """A signed payload that cannot become an order; ``errors`` names the fields."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def as_text(value) -> str | None:
    """Trimmed text, or None for null, empty or non-text values (numbers become text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def as_object(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError({field: ["must be an object"]})
    return value


def as_list(value, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError({field: ["must be a list"]})
    return value


def as_money(value, field: str) -> Decimal:
    """An amount sent as text ("199.00") or a number, rounded to the cent."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError({field: ['must be an amount such as "12.50"']})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError({field: ['must be an amount such as "12.50"']}) from None
    if not amount.is_finite():
        raise PayloadError({field: ["must be a finite amount"]})
    if amount < 0:
        raise PayloadError({field: ["must not be negative"]})
    if amount > MAX_MONEY:
        raise PayloadError({field: [f"must be at most {MAX_MONEY}"]})
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
