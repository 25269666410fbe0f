"""Periodic checks: low stock, overdue orders, failed jobs, and the daily digest."""
import logging

from worker.app import job_context

log = logging.getLogger(__name__)


def _then_dispatch(run) -> int:
    from webapp.background.dispatch import dispatch_pending
    from webapp.extensions import db

    raised = run()
    db.session.commit()
    dispatch_pending()  # the emails the alerts queued
    return raised


def scan_stock_and_deadlines() -> dict:
    """Raise and clear low-stock and overdue alerts."""
    from webapp.alerts.scans import scan_low_stock, scan_overdue

    with job_context():
        result = {"low_stock": _then_dispatch(scan_low_stock), "overdue": _then_dispatch(scan_overdue)}
    log.info("alerts raised: %s", result)
    return result


def scan_failed_jobs() -> int:
    """An alert for every job that failed after its retries, cleared once it is retried or removed."""
    from webapp.alerts.scans import record_failed_jobs
    from webapp.jobs.registry import failed_jobs

    with job_context():
        return _then_dispatch(lambda: record_failed_jobs(failed_jobs()))


def daily_digest() -> bool:
    """Email the owner today's digest."""
    from webapp.alerts.digest import send_daily_digest

    with job_context():
        return bool(_then_dispatch(send_daily_digest))
