"""Schedule background work in the database, then enqueue it on RQ once the transaction has committed."""
import logging

from flask import g, has_request_context
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import select, update

from webapp.background.models import PendingJob
from webapp.extensions import db
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
        g.background_work_scheduled = True


def dispatch_pending(limit: int = 500) -> int:
    """Enqueue waiting jobs on RQ; returns how many were enqueued. Safe to run anywhere, any number of times.

    Each row is claimed with a conditional UPDATE first, so two dispatchers never enqueue the same job.
    When Redis is down the rows stay waiting and the next dispatch (a later request or the periodic job)
    picks them up.
    """
    db.session.rollback()  # start from what is committed
    waiting = db.session.scalars(
        select(PendingJob).where(PendingJob.enqueued_at.is_(None)).order_by(PendingJob.id).limit(limit)
    ).all()
    db.session.commit()
    enqueued = 0
    try:
        connection = redis_connection()
        for job in waiting:
            claimed = db.session.execute(
                update(PendingJob).where(PendingJob.id == job.id, PendingJob.enqueued_at.is_(None))
                .values(enqueued_at=utcnow())
            ).rowcount
            db.session.commit()
            if not claimed:
                continue
            try:
                Queue(job.queue, connection=connection).enqueue_call(
                    job.function, args=tuple(job.args), job_id=job.job_id, retry=RETRY,
                    result_ttl=86400, failure_ttl=30 * 86400,
                )
            except Exception:
                _release(job.id)
                raise
            enqueued += 1
    except RedisError as error:
        log.warning("Redis is unavailable; %d job(s) wait in the database: %s", len(waiting) - enqueued, error)
    return enqueued


def _release(pending_id: int) -> None:
    db.session.rollback()
    db.session.execute(update(PendingJob).where(PendingJob.id == pending_id).values(enqueued_at=None))
    db.session.commit()
