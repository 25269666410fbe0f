"""Hand waiting work to RQ: the catch-up after Redis was away or lost its jobs, or a worker died mid-job."""
from worker.app import job_context


def dispatch_pending_jobs() -> int:
    """Enqueue every job still waiting in the database (and those Redis lost), retry the jobs of workers that died
    mid-job, and end the import runs whose worker died or whose job is gone; returns how many were enqueued from
    the database."""
    from webapp.background.dispatch import dispatch_pending, redispatch_lost_jobs
    from webapp.imports.interrupted import end_interrupted_runs
    from webapp.jobs.registry import retry_abandoned_jobs

    retry_abandoned_jobs()
    with job_context():
        redispatch_lost_jobs()
        handed_over = dispatch_pending()
        end_interrupted_runs()  # after the two above: a job handed over again is not taken for lost
        return handed_over


def prune_dispatched_jobs() -> int:
    """Delete the database's record of jobs handed to RQ a week ago or more."""
    from webapp.background.dispatch import prune_dispatched

    with job_context():
        return prune_dispatched()
