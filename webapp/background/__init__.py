"""Background work handed to RQ through a table: written in the same transaction as the change that needs it,
enqueued after the commit, and caught up later when Redis was away (nothing lost, nothing doubled)."""
import logging

from flask import Flask, current_app, g

from webapp.background.dispatch import dispatch_pending, hand_over
from webapp.extensions import db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.teardown_request(_dispatch_after_request)


def _dispatch_after_request(error):
    """After a request that scheduled work (and committed it), hand that work to RQ.

    The response is already decided: a failure here must not turn a stored order into an error page. Whatever
    is not handed over now is caught up by the periodic dispatch job.
    """
    job_ids = g.pop("scheduled_job_ids", None)
    committed = g.pop("committed_jobs", None)
    if error is not None:
        return
    mark_within = current_app.config["DISPATCH_MARK_SECONDS"]
    try:
        if committed:  # rows this request added and committed: no need to read them back
            db.session.rollback()
            hand_over(committed, mark_within=mark_within)
        if job_ids:  # jobs scheduled before: they may be waiting still
            dispatch_pending(job_ids, mark_within=mark_within)
    except Exception:  # noqa: BLE001 - logged; the periodic dispatch retries
        log.exception("dispatching %d job(s) after the request failed", len(job_ids or []) + len(committed or []))
