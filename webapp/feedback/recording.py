"""Keeping what a customer said about their order: one rating per order, changed by a later visit."""
from typing import Annotated

from pydantic import Field, StrictInt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.orders.models import Order
from webapp.orders.workflow import record_event
from webapp.validation import StrictInput

MAX_COMMENT = 2000
# Orders whose customer has received them (a returned one may still be rated).
RATEABLE_STATUSES = ("delivered", "returned")


class FeedbackIn(StrictInput):
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] = ""


def feedback_for(order: Order) -> OrderFeedback | None:
    """What the customer said about ``order``, if anything yet."""
    return db.session.scalar(select(OrderFeedback).where(OrderFeedback.order_id == order.id))


def record_feedback(order: Order, rating: int, comment: str) -> OrderFeedback:
    """Store the customer's rating and comment (replacing an earlier one) and note it on the order's timeline."""
    feedback = feedback_for(order)
    previous = feedback.rating if feedback else None
    if feedback is None:
        feedback = OrderFeedback(order_id=order.id, rating=rating, comment=comment)
        try:
            with db.session.begin_nested():  # the same link submitted twice at once: the second one updates
                db.session.add(feedback)
        except IntegrityError:
            feedback = feedback_for(order)
            previous = feedback.rating
    feedback.rating, feedback.comment = rating, comment
    said = f"Customer rated {rating}/5" if previous is None else f"Customer changed their rating to {rating}/5"
    if previous is not None and previous != rating:
        said += f" (was {previous}/5)"
    record_event(order, kind="feedback", actor="customer", note=f"{said}: “{comment}”" if comment else said)
    return feedback
