"""The emails page: what the shop sent, what waits, and what failed with its error (retry from here)."""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import select, update

from webapp.emails.models import EMAIL_STATUSES, OutgoingEmail
from webapp.emails.outbox import retry_email
from webapp.extensions import db
from webapp.listing import page_of
from webapp.timekeeping import utcnow
from webapp.views import page_from_query, render_page

bp = Blueprint("emails", __name__, url_prefix="/emails")
STUCK_AFTER = timedelta(minutes=15)


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
                       status_filter=status, statuses=EMAIL_STATUSES, errors=errors,
                       stuck_before=utcnow() - STUCK_AFTER)


@bp.post("/<int(max=2147483647):email_id>/give-up")
def give_up(email_id: int):
    """Mark an email stuck in "sending" (its worker died mid-send) as failed, so it can be sent again: the
    owner decides, because it may in fact have gone out."""
    stuck = db.session.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.status == "sending",
               OutgoingEmail.created_at < utcnow() - STUCK_AFTER)
        .values(status="failed", last_error="The worker stopped while sending; it may or may not have gone out.")
    ).rowcount
    db.session.commit()
    flash("Marked as failed: check with the recipient before sending it again." if stuck
          else "Only an email stuck in sending for a while can be marked failed.", "success" if stuck else "error")
    return redirect(url_for("emails.list_emails", status=request.args.get("status") or None), 303)


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
