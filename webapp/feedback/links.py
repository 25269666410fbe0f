"""The signed link in the feedback email: it names the order, cannot be guessed or altered, and expires."""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.orders.models import Order

SALT = "solo-oms.order-feedback"  # a token signed for anything else (sessions, other links) is not valid here
LINK_DAYS = 60


class LinkExpired(Exception):
    """A genuine link, older than LINK_DAYS."""


class LinkInvalid(Exception):
    """Not a link this shop signed: altered, cut short, or made up."""


def _serializer() -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY; a link signed with one of OLD_SECRET_KEYS (emailed before SECRET_KEY was rotated, and
    valid for LINK_DAYS) still opens."""
    return URLSafeTimedSerializer([*current_app.config["OLD_SECRET_KEYS"], current_app.config["SECRET_KEY"]],
                                  salt=SALT)


def feedback_token(order: Order) -> str:
    """A token for ``order``'s feedback page, valid for LINK_DAYS from now."""
    return _serializer().dumps({"order": order.number})


def order_number_from(token: str) -> str:
    """The order number a token names; LinkExpired or LinkInvalid when it does not hold."""
    try:
        payload = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired as error:
        raise LinkExpired from error
    except (BadSignature, UnicodeError, ValueError) as error:
        raise LinkInvalid from error
    if not isinstance(payload, dict) or not isinstance(payload.get("order"), str):
        raise LinkInvalid
    return payload["order"]
