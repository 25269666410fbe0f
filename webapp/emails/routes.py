"""The emails page: what the shop sent, what waits, and what failed with its error (retry from here)."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import select

from webapp.emails.models import EMAIL_STATUSES, OutgoingEmail
from webapp.emails.outbox import retry_email
from webapp.extensions import db
from webapp.listing import page_of
from webapp.views import page_from_query, render_page

bp = Blueprint("emails", __name__, url_prefix="/emails")


@bp.route("")
def list_emails():
    """Outgoing emails, newest first, filterable by status."""
    status = request.args.get("status", "")
    errors = []
    if status and status not in EMAIL_STATUSES:
        errors.append(f"'{status}' is not an email status.")
        status = ""
    query = select(OutgoingEmail).order_by(OutgoingEmail.id.desc())
    if status:
        query = query.where(OutgoingEmail.status == status)
    listing = page_of(query, page_from_query(errors))
    return render_page("emails/list.html", "emails/_rows.html", status=400 if errors else 200, listing=listing,
                       status_filter=status, statuses=EMAIL_STATUSES, errors=errors)


@bp.post("/<int(max=2147483647):email_id>/retry")
def retry(email_id: int):
    """Send a failed email again."""
    email = db.session.get(OutgoingEmail, email_id)
    if email is None:
        abort(404, "There is no such email.")
    if retry_email(email):
        db.session.commit()
        flash(f"Sending “{email.subject}” again.", "success")
    else:
        flash(f"That email is {email.status}; only failed emails are sent again.", "error")
    return redirect(url_for("emails.list_emails", status=request.args.get("status") or None), 303)
