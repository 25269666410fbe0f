"""Schedule background work in the database, then enqueue it on RQ once the transaction has committed."""
import logging
import threading
import time
from collections import namedtuple
from datetime import timedelta

from flask import g, has_request_context
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job
from sqlalchemy import bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from webapp.background.models import PendingJob
from webapp.extensions import db
from webapp.sqlite_locking import reading_only
from webapp.timekeeping import utcnow
from worker import QUEUE_DOCUMENTS, QUEUES, redis_connection

log = logging.getLogger(__name__)
# Retries with backoff for every job: a passing SMTP or network fault heals by itself.
# A PDF renders in the worker itself (see worker.app.ShopWorker), which sends no heartbeat meanwhile: a short
# timeout keeps the heartbeat's lapse, after which a dead worker's job is retried, short too. Others: RQ's 180 s.
JOB_TIMEOUTS = {QUEUE_DOCUMENTS: 60}
RETRY = Retry(max=4, interval=[10, 60, 300, 900])
# How long RQ keeps a finished job: a job handed over more recently that Redis no longer has was lost.
RESULT_TTL = 86400
JOBS = PendingJob.__table__
# The plain INSERT of a job keyed on a new row (see schedule_job), built once: intake runs it for every order.
_NEW_JOB = insert(JOBS).values(
    function=bindparam("job_function", type_=JOBS.c.function.type), args=bindparam("job_args", type_=JOBS.c.args.type),
    job_id=bindparam("job_job_id", type_=JOBS.c.job_id.type), queue=bindparam("job_queue", type_=JOBS.c.queue.type),
).returning(JOBS.c.id)


def schedule_job(function: str, *args, job_id: str, queue: str, new_id: bool = False) -> None:
    """Record a job to run after the current transaction commits; the same ``job_id`` is scheduled only once.

    ``new_id``: the job id is made from a row id inserted in this transaction (rows that jobs are keyed on are
    never deleted, so their ids are never reused): no job can have it yet, and the look-up is skipped.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")
    exists = None
    if not new_id:
        with db.session.no_autoflush:  # a job scheduled earlier in this transaction is found in the session below
            exists = db.session.scalar(select(PendingJob.id).where(PendingJob.job_id == job_id))
        exists = exists or any(isinstance(obj, PendingJob) and obj.job_id == job_id for obj in db.session.new)
    if exists:
        if has_request_context():  # scheduled before (and perhaps not handed over yet): the request's end looks
            g.setdefault("scheduled_job_ids", []).append(job_id)
        return
    if new_id and has_request_context() and not db.session().in_nested_transaction():
        # One plain INSERT, not an ORM row for the commit to flush: intake schedules one per message of every order.
        # (In a savepoint the ORM row is kept: a rolled-back savepoint must take the job with it.)
        row_id = db.session.connection().execute(_NEW_JOB, {
            "job_function": function, "job_args": list(args), "job_job_id": job_id, "job_queue": queue}).scalar()
        db.session.info.setdefault(NEW_JOBS, []).append((row_id, function, list(args), job_id, queue))
        return
    row = PendingJob(function=function, args=list(args), job_id=job_id, queue=queue)
    db.session.add(row)
    if has_request_context():  # handed over at the request's end if its transaction commits (see _note_committed)
        db.session.info.setdefault(NEW_JOBS, []).append((row, function, list(args), job_id, queue))


# session.info: the PendingJob rows (or the ids of rows inserted plainly) this transaction added; once it commits,
# request globals: what they hold, so that the request's end hands them to RQ without reading them back.
NEW_JOBS = "new_pending_jobs"
WaitingJob = namedtuple("WaitingJob", "id function args job_id queue")


@event.listens_for(Session, "after_commit")
def _note_committed(session) -> None:
    rows = session.info.pop(NEW_JOBS, None)
    if not rows or not has_request_context():
        return
    committed = g.setdefault("committed_jobs", [])
    for row, *fields in rows:
        if isinstance(row, int):  # inserted as a plain row, outside any savepoint: committed with the transaction
            committed.append(WaitingJob(row, *fields))
            continue
        state = inspect(row)
        if state.persistent:  # not a row of a savepoint that was rolled back; its identity needs no query
            committed.append(WaitingJob(state.identity[0], *fields))


@event.listens_for(Session, "after_rollback")  # the real rollback, not a savepoint's
def _forget_rolled_back(session) -> None:
    session.info.pop(NEW_JOBS, None)


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
    return hand_over(waiting, mark_within=mark_within)


def hand_over(waiting: list, *, mark_within: float = 0) -> int:
    """Enqueue these waiting rows (id, function, args, job_id, queue) on RQ and mark them; see dispatch_pending."""
    handed_over = []
    try:
        connection = redis_connection()
        # RQ notes each job's queue in its set of queues (for `rq info`) in a MULTI/EXEC round trip of its own
        # besides the job's atomic unique enqueue; given a pipeline it leaves those notes to it (in MULTI), so a
        # hand-over of several jobs (emails, webhook deliveries, an invoice PDF) sends them in one round trip.
        with connection.pipeline() as queue_notes:
            for row in waiting:
                try:
                    Queue(row.queue, connection=connection).enqueue_call(
                        row.function, args=tuple(row.args), job_id=row.job_id, retry=RETRY, unique=True,
                        result_ttl=RESULT_TTL, failure_ttl=30 * 86400, timeout=JOB_TIMEOUTS.get(row.queue),
                        pipeline=queue_notes,
                    )
                except DuplicateJobError:
                    pass  # already on RQ
                handed_over.append(row.id)
            queue_notes.execute()
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


def redispatch_lost_jobs(batch: int = 1000) -> int:
    """Mark waiting again the jobs handed to RQ in the last day that Redis no longer has (it restarted without
    saving them, or lost them in a failover), so the next dispatch hands them over again; returns how many.

    RQ keeps every job it was given until a day after it finished (a month if it failed), so a missing one never
    ran to the end. Running a job again is safe: each checks what is already done (an email sent, a PDF made).
    """
    db.session.rollback()
    rows = db.session.execute(
        select(PendingJob.id, PendingJob.job_id)
        .where(PendingJob.enqueued_at >= utcnow() - timedelta(seconds=RESULT_TTL - 60))
    ).all()
    db.session.rollback()
    connection = redis_connection()
    lost = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        with connection.pipeline(transaction=False) as pipeline:
            for row in chunk:
                pipeline.exists(Job.key_for(row.job_id))
            present = pipeline.execute()
        lost += [row.id for row, there in zip(chunk, present, strict=True) if not there]
    if lost:
        log.warning("%d job(s) handed to RQ are no longer in Redis; handing them over again", len(lost))
        db.session.execute(update(PendingJob).where(PendingJob.id.in_(lost)).values(enqueued_at=None))
        db.session.commit()
    return len(lost)


def prune_dispatched(days: int = 7) -> int:
    """Forget jobs handed to RQ more than ``days`` ago (RQ keeps their results and failures)."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = utcnow() - timedelta(days=days)
    removed = db.session.execute(delete(PendingJob).where(PendingJob.enqueued_at < cutoff)).rowcount
    db.session.commit()
    return removed
