"""Email delivery jobs."""
from worker.app import job_context, running_execution


def send_email(email_id: int) -> str:
    """Deliver one message from the outbox (at most once, however often this runs)."""
    from webapp.emails.outbox import send_outgoing_email

    with job_context():
        return send_outgoing_email(email_id, sender=running_execution())
