"""Periodic checks: low stock, overdue orders, failed jobs, and the daily digest."""
import logging
from contextlib import contextmanager

from worker import redis_connection
from worker.app import job_context

log = logging.getLogger(__name__)


def _then_dispatch(run) -> int:
    from webapp.background.dispatch import dispatch_pending
    from webapp.extensions import db

    raised = run()
    db.session.commit()
    dispatch_pending()  # the emails the alerts queued
    return raised


@contextmanager
def one_at_a_time(name: str):
    """Yield True for the one worker that may run this scan now; a second, overlapping run yields False and
    does nothing, so an alert (and its email) is never raised twice."""
    lock = redis_connection().lock(f"solo-oms:lock:{name}", timeout=600, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


def scan_stock_and_deadlines() -> dict:
    """Raise and clear low-stock and overdue alerts."""
    from webapp.alerts.scans import scan_low_stock, scan_overdue

    with job_context(), one_at_a_time("scan-stock-and-deadlines") as mine:
        if not mine:
            return {"skipped": "another scan is running"}
        result = {"low_stock": _then_dispatch(scan_low_stock), "overdue": _then_dispatch(scan_overdue)}
    log.info("alerts raised: %s", result)
    return result


def scan_failed_jobs() -> int:
    """An alert for every job that failed after its retries, cleared once it is retried or removed."""
    from webapp.alerts.scans import record_failed_jobs
    from webapp.jobs.registry import failed_jobs

    with job_context(), one_at_a_time("scan-failed-jobs") as mine:
        return _then_dispatch(lambda: record_failed_jobs(failed_jobs())) if mine else 0


def daily_digest() -> bool:
    """Email the owner today's digest (run hourly; sends once a day, from 06:00 in the shop's time zone)."""
    from webapp.alerts.digest import send_daily_digest

    with job_context():
        return bool(_then_dispatch(send_daily_digest))
