"""Reading RQ's own queues and registries (RQ keeps the truth about jobs; nothing is copied here)."""
from dataclasses import dataclass
from datetime import datetime

from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry

from worker import QUEUES, redis_connection

SHOWN_PER_STATE = 50


@dataclass
class JobRow:
    id: str
    queue: str
    state: str
    function: str
    args: str
    enqueued_at: datetime | None
    error: str | None


def _error_line(job: Job) -> str | None:
    result = job.latest_result()
    info = (result.exc_string if result is not None else None) or ""
    lines = [line for line in info.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else None


def jobs_by_state() -> dict[str, list[JobRow]]:
    """Queued, running, scheduled (waiting to retry) and failed jobs of every queue, newest first."""
    connection = redis_connection()
    rows: dict[str, list[JobRow]] = {"failed": [], "running": [], "queued": [], "scheduled": []}
    for name in QUEUES:
        queue = Queue(name, connection=connection)
        sources = {
            "queued": queue.get_job_ids(0, SHOWN_PER_STATE - 1),
            "running": queue.started_job_registry.get_job_ids(0, SHOWN_PER_STATE - 1),
            "scheduled": queue.scheduled_job_registry.get_job_ids(0, SHOWN_PER_STATE - 1),
            "failed": queue.failed_job_registry.get_job_ids(0, SHOWN_PER_STATE - 1, desc=True),
        }
        for state, ids in sources.items():
            for job in Job.fetch_many(ids, connection=connection):
                if job is None:
                    continue
                rows[state].append(JobRow(
                    id=job.id, queue=name, state=state, function=job.func_name, args=repr(job.args)[:80],
                    enqueued_at=job.enqueued_at, error=_error_line(job) if state == "failed" else None))
    return rows


def failed_jobs() -> dict[str, str]:
    """{job id: last error line} of every failed job, however many."""
    connection = redis_connection()
    failed = {}
    for name in QUEUES:
        ids = Queue(name, connection=connection).failed_job_registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=connection):
            if job is not None:
                failed[job.id] = _error_line(job) or "failed"
    return failed


def retry_failed_job(job_id: str) -> bool:
    """Put a failed job back on its queue; False when there is no such failed job."""
    connection = redis_connection()
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    registry = Queue(job.origin, connection=connection).failed_job_registry
    try:
        registry.requeue(job)
    except InvalidJobOperation:  # not (or no longer) failed: a second click, say
        return False
    return True


def retry_abandoned_jobs(as_of: float | None = None) -> None:
    """Let RQ hand on the jobs of workers that died mid-job (killed, out of memory, machine lost): once a job's
    heartbeat has lapsed (about 90 seconds), RQ retries it if it has retries left, else marks it failed.

    A worker does this itself only every ten minutes; the periodic dispatch calls it every minute.
    ``as_of`` (a Unix time) is for tests that cannot wait for a heartbeat to lapse.
    """
    connection = redis_connection()
    for name in QUEUES:
        StartedJobRegistry(name, connection=connection).cleanup(timestamp=as_of)
