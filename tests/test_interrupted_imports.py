"""Import runs that nothing runs any more are ended by the minute dispatch; those still waiting or running are not.
(A worker killed mid-import, for real: tests/test_faults.py.)"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import func, select

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
from webapp.imports.interrupted import COMMAND_SILENT_SECONDS, end_interrupted_runs, this_command, where_orders_begin
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
    run.state, run.summary = "running", {**run.summary, **where_orders_begin(), "command_host": socket.gethostname(),
                                         "command_pid": int(gone.stdout), "alive_at": int(time.time())}
    alive.state, alive.summary = "running", {**alive.summary, **this_command()}  # this very process
    db.session.commit()
    run_id, alive_id = run.id, alive.id
    with pytest.raises(WorkerKilled):
        import_orders(path, "generic", history=True, progress=stop_after(4, WorkerKilled()))
    with pytest.raises(AssertionError):
        stored_earlier_orders_are_right()

    assert end_interrupted_runs() == 1
    state, message = state_of(run_id)
    assert state == "failed" and "`flask orders import` command running it ended without finishing" in message
    assert stored_earlier_orders_are_right() == 0
    assert state_of(alive_id) == ("running", None)


# --- the import command --------------------------------------------------------------------------------------------

def a_command_run(tmp_path, **summary) -> int:
    run_id = a_run(tmp_path, job_id=None, state="running")
    run = db.session.get(ImportRun, run_id)
    run.actor, run.summary = "cli", {**run.summary, **summary}
    db.session.commit()
    return run_id


def a_dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_a_command_run_is_ended_once_its_process_is_gone_or_it_fell_silent_elsewhere(app, clean_redis, tmp_path):
    now = int(time.time())
    here = socket.gethostname()
    alive = a_command_run(tmp_path, **this_command())
    dead = a_command_run(tmp_path, command_host=here, command_pid=a_dead_pid(), alive_at=now, rows_done=6)
    elsewhere_busy = a_command_run(tmp_path, command_host="another-machine", command_pid=1, alive_at=now - 60)
    elsewhere_silent = a_command_run(tmp_path, command_host="another-machine", command_pid=1,
                                     alive_at=now - COMMAND_SILENT_SECONDS - 60)
    assert end_interrupted_runs() == 2
    assert state_of(alive) == ("running", None) and state_of(elsewhere_busy) == ("running", None)
    state, message = state_of(dead)
    assert state == "failed" and "after reading 6 of about 6 rows" in message
    assert "`flask orders import` command running it ended without finishing" in message
    assert "Run the same command again" in message
    state, message = state_of(elsewhere_silent)
    assert state == "failed" and "how far it got is not known" in message


def test_an_import_command_killed_mid_import_is_ended_by_the_minute_dispatch(app, database_url, redis_server,
                                                                             clean_redis, tmp_path):
    from webapp.imports.importing import BATCH_ORDERS
    from worker.jobs.dispatch import dispatch_pending_jobs

    rows, expected = generated_rows(BATCH_ORDERS * 4)
    path = write_csv(tmp_path / "history.csv", GENERIC_HEADER, rows)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server["url"], "SECRET_KEY": "test"}
    log = tmp_path / "command.log"
    with log.open("wb") as output:
        command = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "orders", "import",
                                    str(path), "--format", "generic", "--history", "--quiet"], env=env,
                                   cwd=Path(__file__).parent.parent, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and command.poll() is None:
            db.session.rollback()
            if (db.session.scalar(select(func.count(Order.id))) or 0) >= BATCH_ORDERS:
                break
            time.sleep(0.05)
        assert command.poll() is None, log.read_text()[-2000:]
        command.send_signal(signal.SIGKILL)  # as the OOM killer or a lost terminal session would
    finally:
        if command.poll() is None:
            command.kill()
        command.wait(timeout=30)
    db.session.rollback()
    run_id = db.session.scalar(select(ImportRun.id))
    assert db.session.get(ImportRun, run_id).state == "running"
    kept = db.session.scalar(select(func.count(Order.id)))
    assert kept % BATCH_ORDERS == 0 and 0 < kept < expected["orders"]  # whole batches only

    dispatch_pending_jobs()
    state, message = state_of(run_id)
    assert state == "failed" and "`flask orders import` command running it ended without finishing" in message
    assert "The orders of those" in message or "how far it got is not known" in message
