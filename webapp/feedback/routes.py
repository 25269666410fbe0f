"""The customer's feedback page, opened from the signed link in the feedback email (no sign-in)."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.extensions import db, limiter
from webapp.feedback.links import LINK_DAYS, LinkExpired, LinkInvalid, order_number_from
from webapp.feedback.recording import RATEABLE_STATUSES, FeedbackIn, feedback_for, record_feedback
from webapp.form_input import read_form
from webapp.orders.models import Order

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
FIELD_LABELS = {"rating": "Rating", "comment": "Comment"}


def _unavailable(status: int, message: str):
    return render_template("feedback/unavailable.html", message=message), status


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"])
def give_feedback(token: str):
    """Rate a delivered order from 1 to 5 with a comment; a second visit shows and may change the rating."""
    try:
        number = order_number_from(token)
    except LinkExpired:
        return _unavailable(400, f"This feedback link has expired: links work for {LINK_DAYS} days after "
                                 "delivery. Thank you for thinking of us all the same.")
    except LinkInvalid:
        return _unavailable(404, "This feedback link is not complete or not valid. Please open it exactly as it "
                                 "appears in your email.")
    order = db.session.scalar(select(Order).where(Order.number == number).options(joinedload(Order.customer)))
    if order is None or order.status not in RATEABLE_STATUSES:
        return _unavailable(404, "There is no delivered order for this link.")
    feedback = feedback_for(order)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, errors = read_form(FeedbackIn, request.form, integers=("rating",))
        if data is not None:
            record_feedback(order, data.rating, data.comment)
            db.session.commit()
            flash("Thank you! Your feedback has reached us.", "success")
            return redirect(url_for("feedback.give_feedback", token=token), 303)
        values = {"rating": request.form.get("rating", ""), "comment": request.form.get("comment", "")}
    else:
        values = {"rating": str(feedback.rating) if feedback else "", "comment": feedback.comment if feedback else ""}
    return render_template("feedback/page.html", order=order, feedback=feedback, values=values, errors=errors,
                           labels=FIELD_LABELS), 422 if errors else 200
