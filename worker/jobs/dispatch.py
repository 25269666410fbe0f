"""Hand waiting work to RQ: the catch-up after Redis was away."""
from worker.app import job_context


def dispatch_pending_jobs() -> int:
    """Enqueue every job still waiting in the database; returns how many were enqueued."""
    from webapp.background.dispatch import dispatch_pending

    with job_context():
        return dispatch_pending()


def prune_dispatched_jobs() -> int:
    """Delete the database's record of jobs handed to RQ a week ago or more."""
    from webapp.background.dispatch import prune_dispatched

    with job_context():
        return prune_dispatched()
