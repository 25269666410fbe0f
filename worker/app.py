"""The Flask app that jobs run in: created once per worker process, on the first job (never at import)."""
from contextlib import contextmanager

from flask import has_app_context

_app = None


@contextmanager
def job_context():
    """An app context for a job: the current one when the job runs inside the app (tests, a burst worker in a
    command), else the worker process's own app built from the environment like the web's."""
    global _app
    if has_app_context():
        yield
        return
    if _app is None:
        from webapp import create_app
        from worker.logs import configure_job_logging

        configure_job_logging()
        _app = create_app()
    with _app.app_context():
        from webapp.extensions import db

        try:
            yield
        finally:
            db.session.remove()
