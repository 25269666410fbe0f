"""The Flask app that jobs run in: built once per worker process (never at import), before it forks for jobs."""
import os
import time
from contextlib import contextmanager

from flask import has_app_context
from rq import SimpleWorker, Worker, get_current_job

from worker import QUEUE_DOCUMENTS, QUEUE_FORECASTS

_app = None
_running_execution: str | None = None
# Fault tests only: a folder where `<job id>.stall` makes that job's first run wait to be killed (see below).
FAULT_TEST_STALL_DIR = "SOLO_OMS_FAULT_TEST_STALL_DIR"


def job_app():
    """The worker process's app, built from the environment like the web's, with job-id logging."""
    global _app
    if _app is None:
        from webapp import create_app
        from worker.logs import configure_job_logging

        configure_job_logging()
        _app = create_app()
    return _app


class CountsJobOutcomes:
    """Counts each job's outcome in Redis for /metrics: every worker, on any machine, adds to the same counters,
    and a count made in the forked child that runs the job is not lost when the child exits."""

    def handle_job_success(self, job, queue, *args, **kwargs):
        result = super().handle_job_success(job, queue, *args, **kwargs)
        self._count_outcome(job, "finished")
        return result

    def handle_job_failure(self, job, queue, *args, **kwargs):
        result = super().handle_job_failure(job, queue, *args, **kwargs)
        self._count_outcome(job, "failed")
        return result

    def _count_outcome(self, job, outcome: str) -> None:
        from webapp.metrics import record_job_outcome

        try:
            record_job_outcome(self.connection, job.func_name, outcome)
        except Exception:  # noqa: BLE001 - a lost count must never fail the job
            self.log.warning("could not count the outcome of job %s", job.id)


class ShopWorker(CountsJobOutcomes, Worker):
    """An RQ worker that builds the app, loads WeasyPrint and warms up forecasting (as its queues need them) once in
    the parent, so the child forked for each job starts warm instead of loading them again (the Procfile runs
    `rq worker -w worker.app.ShopWorker`).

    PDFs are rendered in the worker itself rather than in a forked child: WeasyPrint's fonts and styles then stay
    set up from one invoice to the next instead of being set up again for every PDF (bench/invoices.py measured
    6.6x the throughput of bare forked renders). A fault in a render still only fails that job.
    """

    IN_PROCESS_QUEUES = frozenset({QUEUE_DOCUMENTS})

    def execute_job(self, job, queue):
        if queue.name in self.IN_PROCESS_QUEUES:
            return SimpleWorker.execute_job(self, job, queue)
        return super().execute_job(job, queue)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        # No heartbeat is sent while a job runs in the worker itself: its key must outlive the whole job.
        if job.origin in self.IN_PROCESS_QUEUES:
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)

    def work(self, *args, **kwargs):
        job_app()
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # else every forked job sets up the ORM's mappers again on its first query
        # Only what this worker's queues need: a worker for forecasts alone never renders a PDF, and the reverse.
        listening = set(self.queue_names())
        if QUEUE_DOCUMENTS in listening:
            from webapp.invoices.issuing import warm_up_weasyprint

            warm_up_weasyprint()  # slow to import and to set up fonts; every PDF job needs it
        if QUEUE_FORECASTS in listening:
            from webapp.forecasting.predict import load_prophet

            load_prophet()  # one small fit: finds Prophet's Stan program and caches the first Fourier rows
        import gc

        gc.freeze()  # what is loaded now stays shared with the forked jobs instead of being copied by the GC

        return super().work(*args, **kwargs)

    def perform_job(self, job, queue, execution):
        global _running_execution
        _running_execution = execution.composite_key if execution is not None else None
        return super().perform_job(job, queue, execution)


def running_execution() -> str | None:
    """"<job id>:<execution id>" of the RQ execution this process is running (the forked child of a ShopWorker),
    else None. A job that claims a row records it, so that a later run can tell whether the claimer is dead."""
    return _running_execution


def stall_for_fault_tests(point: str = "") -> None:
    """Inert unless SOLO_OMS_FAULT_TEST_STALL_DIR is set, which only the fault tests do: a job whose id the test
    armed (an empty `<job id><point>.stall` file there) waits the first time it gets here, so the test can kill the
    worker mid-job. The file is renamed to `<job id><point>.stalled` holding this process's id, so the retry runs
    normally. ``point`` names a place inside a job (an import after its first batch); "" is the job's start."""
    folder = os.environ.get(FAULT_TEST_STALL_DIR)
    job = get_current_job() if folder else None
    if job is None:
        return
    armed = os.path.join(folder, f"{job.id}{point}.stall")
    stalled = os.path.join(folder, f"{job.id}{point}.stalled")
    try:
        os.rename(armed, stalled)
    except FileNotFoundError:
        return
    with open(stalled, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(300)


@contextmanager
def job_context():
    """An app context for a job: the current one when the job runs inside the app (tests, a burst worker in a
    command), else the worker process's own app."""
    if has_app_context():
        yield
        return
    with job_app().app_context():
        from webapp.extensions import db

        stall_for_fault_tests()
        try:
            yield
        finally:
            db.session.remove()
