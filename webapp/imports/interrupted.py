"""Import runs that nothing is running any more: their worker was killed mid-import (restarted, out of memory, the
machine lost), or RQ lost or gave up their job. The minute dispatch ends them as failed, saying what was kept.

What a half-done import leaves: orders are saved a batch at a time, each batch whole in its own transaction (a
history import 5,000 orders with their lines, timeline, new customers and new products, and one activity entry; a
live import 200, each through intake with its stock reserved). Every batch saved before the worker died is kept;
nothing of the batch it was on. A history import writes each order's earlier orders as the whole file tells them,
so some count orders of batches never stored: ending the run works its customers' figures out again from what was
stored (the orders after the largest order id the run noted as it began), in the transaction that ends it. Importing
the file again is safe: an order already imported (by its number in the file, `orders.external_ref`) is skipped, a
return already applied is not applied twice, customers and products are matched, not added again.
"""
import os
import socket
import time

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update

from webapp.background.models import PendingJob
from webapp.extensions import db
from webapp.imports.importing import BATCH_ORDERS, CHANNEL
from webapp.imports.live import LiveImport
from webapp.imports.models import ImportRun
from webapp.orders.earlier_orders import fill_earlier_orders
from webapp.orders.models import Order
from webapp.orders.shipping_times import fill_hours_to_ship
from webapp.timekeeping import utcnow
from worker import redis_connection

UNFINISHED = ("waiting", "running")
ORDERS_AFTER = "orders_after"  # in a run's summary from when it begins: the largest order id then


def where_orders_begin() -> dict:
    """What a run notes in its summary as it begins: the orders it imports get larger ids than any there now."""
    return {ORDERS_AFTER: db.session.scalar(select(func.coalesce(func.max(Order.id), 0)))}


# A command on another machine cannot be looked for: it is taken for gone once it has not reported progress (each
# batch saved: a few seconds) for this long. One on this machine is looked for by its process id.
COMMAND_SILENT_SECONDS = 30 * 60


def this_command() -> dict:
    """What a run of the import command keeps in its summary so that a later look can tell it is still there."""
    return {"command_host": socket.gethostname(), "command_pid": os.getpid(), "alive_at": int(time.time())}


def report_alive(run_id: int, rows_done: int) -> None:
    """The command is still importing: called after each batch is saved (a few seconds apart), with the rows of the
    batches saved so far."""
    summary = dict(db.session.scalar(select(ImportRun.summary).where(ImportRun.id == run_id)) or {})
    summary.update(alive_at=int(time.time()), rows_done=rows_done)
    db.session.execute(update(ImportRun).where(ImportRun.id == run_id).values(summary=summary)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _command_gone(summary: dict) -> bool:
    """Whether the import command of a run is no longer running: its process is gone from this machine, or (on
    another machine) it has been silent for COMMAND_SILENT_SECONDS."""
    if summary.get("command_host") == socket.gethostname():
        try:
            os.kill(int(summary["command_pid"]), 0)  # no signal: only asks whether the process is there
        except ProcessLookupError:
            return True
        except (KeyError, TypeError, ValueError, PermissionError, OverflowError):
            pass  # someone else's process (PermissionError), or no pid: go by the silence
    return time.time() - summary.get("alive_at", 0) > COMMAND_SILENT_SECONDS


def end_killed_command_runs() -> int:
    """End the runs of `flask orders import` commands that are no longer running (killed with ``kill -9``, or their
    machine stopped: Ctrl-C, a kill and errors end a run themselves), their figures worked out from what they
    stored; returns how many. Called by the minute dispatch and as each import command begins."""
    db.session.rollback()
    runs = db.session.execute(select(ImportRun.id, ImportRun.summary).where(
        ImportRun.state == "running", ImportRun.job_id.is_(None), ImportRun.actor == "cli")).all()
    db.session.rollback()
    ended = 0
    for run_id, summary in runs:
        if isinstance(summary, dict) and "alive_at" in summary and _command_gone(summary):
            run = db.session.get(ImportRun, run_id)
            ended += end_stopped_run(run_id, stopped_message(run, summary.get("rows_done")))
    return ended


def fill_figures_of_stopped_run(run: ImportRun) -> None:
    """Work out again, from what is stored, the figures of the customers of the orders a stopped history run
    imported: some were written counting orders of batches it never stored (histories.py)."""
    after = (run.summary or {}).get(ORDERS_AFTER)
    if not run.history or run.dry_run or after is None:
        return
    customers = db.session.scalars(select(Order.customer_id).distinct()
                                   .where(Order.id > after, Order.channel == CHANNEL)).all()
    if customers:
        fill_earlier_orders(customers=customers)
        fill_hours_to_ship()


def stopped_message(run: ImportRun, done: int | None) -> str:
    """What the owner reads on the run's page: how far it got, what is kept, and what to do. ``done``: the rows of
    the batches it reported saved; None when not known (it saved none, or its job, and with it the count, is gone)."""
    total = run.summary.get("total_rows", 0)
    batch = f"{BATCH_ORDERS:,} orders" if run.history else f"{LiveImport.batch_orders} orders"
    how_far = f"after reading {done:,} of about {total:,} rows" if done else "how far it got is not known"
    if run.dry_run:
        kept = "It was a dry run, so nothing was written."
    elif not done:
        kept = (f"Orders of the batches it saved before it stopped are kept (it saves {batch} at a time, each "
                "batch whole).")
    else:
        kept = (f"The orders of those {done:,} rows are saved and kept (it saves {batch} at a time, each batch "
                "whole); nothing after them was saved.")
    if run.actor == "cli":
        return (f"The import stopped part-way, {how_far}: the `flask orders import` command running it ended "
                f"without finishing (killed, or its machine stopped). {kept} Run the same command again to import "
                "the rest: orders already imported are skipped, so none is imported twice.")
    return (f"The import stopped part-way, {how_far}: the worker running it was stopped (restarted, or out of "
            f"memory). {kept} Upload the same file again to import the rest: orders already imported are skipped, "
            "so none is imported twice.")


def never_started_message(status: JobStatus | None) -> str:
    why = ("its background job was lost (the job queue was restarted or cleared)" if status is None
           else "its background job failed before it began (the Jobs page shows why)")
    return f"The import never started: {why}. Nothing from this file was saved. Upload the file again to import it."


def end_stopped_run(run_id: int, message: str) -> bool:
    """End the run as failed unless it ended meanwhile, its figures worked out from what it stored; its upload is
    removed. Returns whether it was ended."""
    from webapp.imports.runs import remove_upload

    db.session.rollback()
    run = db.session.get(ImportRun, run_id)
    path = run.path if run is not None else None
    if run is not None and run.state in UNFINISHED:
        fill_figures_of_stopped_run(run)  # in the transaction that ends it: an error leaves it for the next dispatch
    ended = db.session.execute(
        update(ImportRun).where(ImportRun.id == run_id, ImportRun.state.in_(UNFINISHED))
        .values(state="failed", summary=_with_message(run_id, message), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if ended:
        remove_upload(path)
    return bool(ended)


def _with_message(run_id: int, message: str) -> dict:
    summary = dict(db.session.scalar(select(ImportRun.summary).where(ImportRun.id == run_id)) or {})
    summary["message"] = message
    return summary


def rows_done(job: Job | None) -> int | None:
    """Rows of the saved batches, as the job last reported them (job.meta["done"]); None when it reported none."""
    try:
        return int(job.meta["done"]) if job is not None and "done" in job.meta else None
    except (TypeError, ValueError):
        return None


def end_interrupted_runs() -> int:
    """Find the unfinished runs whose job RQ is not running, and those of import commands no longer running, and end
    them as failed; returns how many.

    Called by the minute dispatch after RQ has handed on the jobs of dead workers and lost jobs were handed over
    again. A run is left alone while its job waits in the database to be handed to RQ (Redis away), is queued, or
    runs. A running run whose job is anything but started (queued or scheduled for a retry: the attempt that began
    it died) or a run whose job failed, stopped, finished or is gone, is ended.
    """
    ended = end_killed_command_runs()
    runs = db.session.execute(select(ImportRun.id, ImportRun.state, ImportRun.job_id)
                              .where(ImportRun.state.in_(UNFINISHED), ImportRun.job_id.is_not(None))).all()
    waiting_jobs = set(db.session.scalars(select(PendingJob.job_id).where(
        PendingJob.job_id.in_([run.job_id for run in runs]), PendingJob.enqueued_at.is_(None)))) if runs else set()
    db.session.rollback()
    for run in runs:
        if run.job_id in waiting_jobs:
            continue
        try:
            job = Job.fetch(run.job_id, connection=redis_connection())
            status = job.get_status(refresh=False)
        except NoSuchJobError:
            job, status = None, None
        except RedisError:
            return ended  # Redis away: nothing can be told now; the next dispatch looks again
        if status == JobStatus.STARTED:
            continue
        if run.state == "waiting" and status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            continue
        if run.state == "running" or rows_done(job):
            message = stopped_message(db.session.get(ImportRun, run.id), rows_done(job))
        else:
            message = never_started_message(status)
        ended += end_stopped_run(run.id, message)
    return ended
