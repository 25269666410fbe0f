"""Import runs that nothing runs any more are ended by the minute dispatch; those still waiting or running are not.
(A worker killed mid-import, for real: tests/test_faults.py.)"""
import socket
import subprocess
import sys

import pytest
from rq import Queue
from sqlalchemy import select

from tests.test_analytics_recomputed import stored_earlier_orders_are_right
from tests.test_csv_import import (
    GENERIC_HEADER,
    generated_rows,
    newest_first_export,
    stop_after,
    stored_with_figures,
    write_csv,
)
from webapp.background.dispatch import dispatch_pending
from webapp.background.models import PendingJob
from webapp.extensions import db
from webapp.imports import importing
from webapp.imports.importing import HistoryImport, import_orders
from webapp.imports.interrupted import COMMAND, end_interrupted_runs, this_command, where_orders_begin
from webapp.imports.models import ImportRun
from webapp.imports.runs import record_run, run_import
from webapp.orders.models import Order
from worker import QUEUE_DEFAULT, redis_connection


@pytest.fixture
def clean_redis(app):
    redis_connection().flushdb()


def a_run(tmp_path, *, job_id: str | None = "import-run-x", state: str = "waiting", history: bool = True) -> int:
    path = write_csv(tmp_path / "orders.csv", GENERIC_HEADER, generated_rows(3)[0])
    run = record_run(path.name, "generic", history=history, dry_run=False, columns={}, actor="owner@example.com",
                     path=str(path), total_rows=6)
    run.job_id, run.state = job_id and f"{job_id}-{run.id}", state
    db.session.commit()
    return run.id


def state_of(run_id: int) -> tuple[str, str | None]:
    db.session.rollback()
    run = db.session.get(ImportRun, run_id)
    return run.state, run.summary.get("message")


def test_a_run_whose_job_redis_lost_is_ended_but_not_one_waiting_to_be_handed_over(app, clean_redis, tmp_path):
    lost = a_run(tmp_path)  # its job never reached RQ, and nothing in the database waits to hand it over
    waiting = a_run(tmp_path, job_id="import-run-waiting")
    db.session.add(PendingJob(function="worker.jobs.imports.run_import", args=[waiting],
                              job_id=db.session.get(ImportRun, waiting).job_id, queue=QUEUE_DEFAULT))
    db.session.commit()
    assert end_interrupted_runs() == 1
    state, message = state_of(lost)
    assert state == "failed" and message.startswith("The import never started: its background job was lost")
    assert state_of(waiting) == ("waiting", None)


def test_a_run_whose_job_is_queued_is_left_alone_until_it_runs(app, clean_redis, tmp_path):
    run_id = a_run(tmp_path)
    job_id = db.session.get(ImportRun, run_id).job_id
    Queue(QUEUE_DEFAULT, connection=redis_connection()).enqueue_call(
        "worker.jobs.imports.run_import", args=(run_id,), job_id=job_id)
    assert end_interrupted_runs() == 0
    assert state_of(run_id) == ("waiting", None)


def test_a_job_run_again_after_its_worker_died_does_not_begin_the_import_again(app, clean_redis, tmp_path):
    run_id = a_run(tmp_path, state="running")  # begun by a run of the job that died
    run_import(run_id)  # a job run that reported no progress (a job Redis lost and was handed over again)
    state, message = state_of(run_id)
    assert state == "failed" and "stopped part-way, how far it got is not known" in message
    assert "Orders of the batches it saved before it stopped are kept" in message
    assert db.session.scalar(select(Order.id)) is None
    dispatch_pending()  # nothing left to do
    assert state_of(run_id)[0] == "failed"


class WorkerKilled(BaseException):
    """Stands for the worker's death: raised mid-import, with nothing of the import running after it."""


def test_a_history_run_whose_worker_died_has_its_figures_worked_out_as_it_is_ended(app, clean_redis, tmp_path,
                                                                                   monkeypatch):
    """Its saved batches' orders were written with earlier orders counting orders of batches never stored; ending
    the run (here as RQ's retry of its job does; the minute dispatch alike) works them out from what was."""
    monkeypatch.setattr(HistoryImport, "batch_orders", 3)
    monkeypatch.setattr(importing, "fill_after_stop", lambda importer: None)  # a dead worker runs nothing more
    path = newest_first_export(tmp_path / "newest_first.csv", "N")
    run = record_run(path.name, "generic", history=True, dry_run=False, columns={}, actor="owner@example.com",
                     path=str(path), total_rows=24)
    run.job_id = f"import-run-{run.id}"
    db.session.commit()
    run_id = run.id
    with pytest.raises(WorkerKilled):
        run_import(run_id, stop_after(4, WorkerKilled()))
    assert stored_with_figures("N") == (12, 12)
    with pytest.raises(AssertionError):  # counting orders of the batches that never came
        stored_earlier_orders_are_right()

    run_import(run_id, done_before=12)
    state, message = state_of(run_id)
    assert state == "failed" and "after reading 12 of about 24 rows" in message
    assert stored_earlier_orders_are_right() == 0


def test_a_command_line_import_killed_is_ended_with_its_figures_by_the_next_look(app, clean_redis, tmp_path,
                                                                                monkeypatch):
    """``kill -9`` runs nothing of it: the minute dispatch (or the next command line import) on the same machine
    sees its process gone, ends its run and works out the figures of what it saved."""
    monkeypatch.setattr(HistoryImport, "batch_orders", 3)
    monkeypatch.setattr(importing, "fill_after_stop", lambda importer: None)
    path = newest_first_export(tmp_path / "newest_first.csv", "N")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = record_run(path.name, "generic", history=True, dry_run=False, columns={}, actor="cli", total_rows=24)
    alive = record_run(path.name, "generic", history=True, dry_run=False, columns={}, actor="cli", total_rows=24)
    run.state, run.summary = "running", {**run.summary, **where_orders_begin(), COMMAND: [
        socket.gethostname(), int(gone.stdout)]}
    alive.state, alive.summary = "running", {**alive.summary, **this_command()}  # this very process
    db.session.commit()
    run_id, alive_id = run.id, alive.id
    with pytest.raises(WorkerKilled):
        import_orders(path, "generic", history=True, progress=stop_after(4, WorkerKilled()))
    with pytest.raises(AssertionError):
        stored_earlier_orders_are_right()

    assert end_interrupted_runs() == 1
    state, message = state_of(run_id)
    assert state == "failed" and "the command running it was killed" in message
    assert stored_earlier_orders_are_right() == 0
    assert state_of(alive_id) == ("running", None)
