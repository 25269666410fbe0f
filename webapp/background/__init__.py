"""Background work handed to RQ through a table: written in the same transaction as the change that needs it,
enqueued after the commit, and caught up later when Redis was away (nothing lost, nothing doubled)."""
from flask import Flask, g

from webapp.background.dispatch import dispatch_pending


def init_app(app: Flask) -> None:
    app.teardown_request(_dispatch_after_request)


def _dispatch_after_request(error):
    """After a request that scheduled work (and committed it), hand the work to RQ."""
    if error is None and g.pop("background_work_scheduled", False):
        dispatch_pending()
