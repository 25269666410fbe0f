"""Putting a message in the outbox (in the caller's transaction) and delivering it exactly once."""
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.background.dispatch import schedule_job
from webapp.emails.models import OutgoingEmail
from webapp.emails.transport import deliver
from webapp.extensions import db
from webapp.settings.models import current_settings
from webapp.timekeeping import utcnow
from worker import QUEUE_EMAILS


def queue_email(*, kind: str, dedupe_key: str, to: str, subject: str, template: str, order_id: int | None = None,
                attachment_invoice_id: int | None = None, new_key: bool = False, **context) -> OutgoingEmail | None:
    """Add a message (plain text and HTML from templates/emails/<template>.txt/.html) to the outbox and schedule
    its delivery after the commit. A message with the same ``dedupe_key`` is never queued twice.

    ``new_key``: the key names something made in this transaction (a new order's number), so no other
    transaction can be queueing it meanwhile. The message is then only added, not flushed in a savepoint of its
    own; the caller flushes and hands it to ``schedule_new_emails``.
    """
    queued = None
    if not new_key:  # a key made in this transaction cannot be in the table yet
        with db.session.no_autoflush:
            queued = db.session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.dedupe_key == dedupe_key))
    if queued or any(isinstance(obj, OutgoingEmail) and obj.dedupe_key == dedupe_key for obj in db.session.new):
        return None
    context.setdefault("shop", current_settings())
    email = OutgoingEmail(
        kind=kind, dedupe_key=dedupe_key, to_address=to, subject=subject, order_id=order_id,
        attachment_invoice_id=attachment_invoice_id,
        text_body=_render(f"emails/{template}.txt", context),
        html_body=_render(f"emails/{template}.html", context),
    )
    if new_key:
        db.session.add(email)
        return email
    try:
        with db.session.begin_nested():  # a concurrent request may queue the same message first
            db.session.add(email)
    except IntegrityError:
        return None
    schedule_job("worker.jobs.emails.send_email", email.id, job_id=f"send-email-{email.id}", queue=QUEUE_EMAILS,
                 new_id=True)
    return email


def _render(template: str, context: dict) -> str:
    """A message from its own context only: the same whether a page, an API request or a job queues it. (Flask's
    render_template would add the page's context, loading the signed-in user for an API order only to leave it
    unused: no email template reads it.)"""
    return current_app.jinja_env.get_template(template).render(context)


def schedule_new_emails(emails: list[OutgoingEmail | None]) -> None:
    """Schedule the delivery of messages queued with ``new_key`` once the caller has flushed them."""
    for email in emails:
        if email is not None:
            schedule_job("worker.jobs.emails.send_email", email.id, job_id=f"send-email-{email.id}",
                         queue=QUEUE_EMAILS, new_id=True)


def retry_email(email: OutgoingEmail) -> bool:
    """Send a failed message again (after its automatic retries ran out); False if it is no longer failed."""
    requeued = db.session.execute(
        update(OutgoingEmail).where(OutgoingEmail.id == email.id, OutgoingEmail.status == "failed")
        .values(status="queued")
    ).rowcount
    if not requeued:  # a second click, or it was sent meanwhile
        return False
    schedule_job("worker.jobs.emails.send_email", email.id, job_id=f"send-email-{email.id}-retry-{email.attempts}",
                 queue=QUEUE_EMAILS)
    return True


def _take_over_from_a_dead_sender(email_id: int, sender: str | None) -> int:
    """Claim a message left in "sending" by an RQ execution that died before the hand-over began; 1 if taken."""
    from worker import execution_is_running

    stuck = db.session.execute(
        select(OutgoingEmail.claimed_by)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.status == "sending",
               OutgoingEmail.handover_started_at.is_(None), OutgoingEmail.claimed_by.is_not(None))
    ).scalar()
    if sender is None or stuck is None or stuck == sender or execution_is_running(stuck):
        return 0
    return db.session.execute(  # only if nobody else took it over meanwhile
        update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.status == "sending", OutgoingEmail.claimed_by == stuck,
               OutgoingEmail.handover_started_at.is_(None))
        .values(claimed_by=sender, attempts=OutgoingEmail.attempts + 1)
    ).rowcount


def _handing_over(email_id: int) -> None:
    """From here on, a sender that dies may have delivered the message: it is not taken over automatically."""
    db.session.execute(update(OutgoingEmail).where(OutgoingEmail.id == email_id)
                       .values(handover_started_at=utcnow()))
    db.session.commit()


def build_message(email: OutgoingEmail) -> EmailMessage:
    shop = current_settings()
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = formataddr((shop.shop_name, shop.shop_email or current_app.config["MAIL_FROM"]))
    message["To"] = email.to_address
    message["Date"] = format_datetime(email.created_at.replace(tzinfo=UTC))
    # Stable per outbox row, so a receiving server can recognise a repeat.
    message["Message-ID"] = f"<solo-oms.{email.id}.{email.created_at:%Y%m%d%H%M%S}@{current_app.config['MAIL_DOMAIN']}>"
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    if email.attachment_invoice_id is not None:
        from webapp.invoices.models import Invoice

        document = db.session.get(Invoice, email.attachment_invoice_id)
        message.add_attachment(document.pdf, maintype="application", subtype="pdf", filename=document.filename)
    return message


def send_outgoing_email(email_id: int, *, sender: str | None = None) -> str:
    """Deliver one outbox message: claimed first, so running this twice (a retry, a duplicate job) sends once.

    ``sender`` is the RQ execution running this ("<job id>:<execution id>"), recorded with the claim. A message
    claimed by a worker that was killed before it began handing the message to the SMTP server is taken over by
    the job's retry once RQ counts that execution dead. One killed after that point may have gone out: it stays
    "sending" and shows on the emails page for the owner to decide, rather than risking a second copy.
    """
    db.session.rollback()
    claimed = db.session.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.id == email_id, OutgoingEmail.status.in_(("queued", "failed")))
        .values(status="sending", attempts=OutgoingEmail.attempts + 1, claimed_by=sender, handover_started_at=None)
    ).rowcount
    db.session.commit()
    if not claimed:
        claimed = _take_over_from_a_dead_sender(email_id, sender)
        db.session.commit()
    if not claimed:
        return "skipped: already sent or being sent"
    email = db.session.get(OutgoingEmail, email_id)
    try:
        deliver(build_message(email), smtp_url=current_app.config["SMTP_URL"],
                outbox_dir=current_app.config["OUTBOX_DIR"], before_handover=lambda: _handing_over(email_id))
    except Exception as error:  # any failure before the hand-off: never leave the message stuck in "sending"
        db.session.rollback()
        email = db.session.get(OutgoingEmail, email_id)
        email.status = "failed"
        email.last_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        raise
    email.status = "sent"
    email.sent_at = utcnow()
    email.last_error = None
    if email.order_id is not None:  # the order's timeline says what its customer (or the owner) was told
        from webapp.orders.models import OrderEvent

        db.session.add(OrderEvent(order_id=email.order_id, kind="email", actor="system", created_at=email.sent_at,
                                  note=f"Email to {email.to_address}: {email.subject}"))
    db.session.commit()
    return "sent"
