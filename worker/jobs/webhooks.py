"""Webhook delivery jobs."""
from rq import get_current_job

from worker.app import job_context


def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a failure raises, and RQ retries it with backoff until its retries run out."""
    from webapp.webhooks_out.outbox import deliver

    job = get_current_job()
    with job_context():
        return deliver(delivery_id, retries_left=(job.retries_left or 0) if job else 0)
