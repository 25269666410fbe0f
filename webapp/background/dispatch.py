"""Schedule background work in the database, then enqueue it on RQ once the transaction has committed."""
import logging
import threading
import time

from flask import g, has_request_context
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import select, update

from webapp.background.models import PendingJob
from webapp.extensions import db
from webapp.sqlite_locking import reading_only
from webapp.timekeeping import utcnow
from worker import QUEUES, redis_connection

log = logging.getLogger(__name__)
# Retries with backoff for every job: a passing SMTP or network fault heals by itself.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])


def schedule_job(function: str, *args, job_id: str, queue: str) -> None:
    """Record a job to run after the current transaction commits; the same ``job_id`` is scheduled only once."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")
    exists = db.session.scalar(select(PendingJob.id).where(PendingJob.job_id == job_id))
    if exists is None:
        db.session.add(PendingJob(function=function, args=list(args), job_id=job_id, queue=queue))
    if has_request_context():
        g.setdefault("scheduled_job_ids", []).append(job_id)


def dispatch_pending(job_ids: list[str] | None = None, limit: int = 500, *, mark_within: float = 0) -> int:
    """Enqueue waiting jobs on RQ (only ``job_ids`` when given); returns how many were handed over.

    It ends the caller's transaction, so call it after the commit. Enqueueing comes first and uses the job's
    fixed id with unique=True: a job already on RQ (another dispatcher, or one that died before marking the
    row) is not enqueued twice, and a row is marked only once RQ has the job, so nothing is lost between the
    two. When Redis is down the rows wait for the next dispatch (a later request or the periodic job).

    ``mark_within`` (seconds) lets a busy web process mark its rows in one write every so often instead of
    one per request: on SQLite every write queues for the one write lock. A row not yet marked is harmless:
    the periodic dispatch finds its job already on RQ (unique id) and only marks it.
    """
    db.session.rollback()
    query = (select(PendingJob.id, PendingJob.function, PendingJob.args, PendingJob.job_id, PendingJob.queue)
             .where(PendingJob.enqueued_at.is_(None)).order_by(PendingJob.id).limit(limit))
    if job_ids is not None:
        query = query.where(PendingJob.job_id.in_(job_ids))
    with reading_only():  # the read need not wait for the write lock
        waiting = db.session.execute(query).all()
        db.session.rollback()  # no transaction held while talking to Redis
    handed_over = []
    try:
        connection = redis_connection()
        for row in waiting:
            try:
                Queue(row.queue, connection=connection).enqueue_call(
                    row.function, args=tuple(row.args), job_id=row.job_id, retry=RETRY, unique=True,
                    result_ttl=86400, failure_ttl=30 * 86400,
                )
            except DuplicateJobError:
                pass  # already on RQ
            handed_over.append(row.id)
    except RedisError as error:
        log.warning("Redis is unavailable; %d job(s) wait in the database: %s", len(waiting) - len(handed_over), error)
    _mark_enqueued(handed_over, within=mark_within)
    return len(handed_over)


# Rows handed to RQ but not yet marked, per process (see mark_within above).
_unmarked: list[int] = []
_unmarked_lock = threading.Lock()
_last_marked = [0.0]


def mark_enqueued_now() -> None:
    """Mark every row this process handed over; the interval starts again from now."""
    _mark_enqueued([], within=0)


def _mark_enqueued(row_ids: list[int], *, within: float) -> None:
    with _unmarked_lock:
        _unmarked.extend(row_ids)
        if within and time.monotonic() - _last_marked[0] < within:
            return
        _last_marked[0] = time.monotonic()
        if not _unmarked:
            return
        marking = list(_unmarked)
        _unmarked.clear()
    try:
        db.session.execute(update(PendingJob).where(PendingJob.id.in_(marking)).values(enqueued_at=utcnow()))
        db.session.commit()
    except Exception:
        db.session.rollback()
        with _unmarked_lock:
            _unmarked.extend(marking)  # try again next time; the periodic dispatch would mark them too
        raise


def prune_dispatched(days: int = 7) -> int:
    """Forget jobs handed to RQ more than ``days`` ago (RQ keeps their results and failures)."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = utcnow() - timedelta(days=days)
    removed = db.session.execute(delete(PendingJob).where(PendingJob.enqueued_at < cutoff)).rowcount
    db.session.commit()
    return removed
