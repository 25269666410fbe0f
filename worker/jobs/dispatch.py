"""Hand waiting work to RQ: the catch-up after Redis was away."""
from worker.app import job_context


def dispatch_pending_jobs() -> int:
    """Enqueue every job still waiting in the database; returns how many were enqueued."""
    from webapp.background.dispatch import dispatch_pending

    with job_context():
        return dispatch_pending()
