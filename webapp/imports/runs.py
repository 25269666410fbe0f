"""Import runs: what each import of a file did, on record. From the web page the upload is kept on disk and the
worker does the work; the command line records its runs the same way."""
import os
import uuid

from flask import current_app
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from webapp.background.dispatch import schedule_job
from webapp.extensions import db
from webapp.imports.formats import FIELDS, FORMATS
from webapp.imports.importing import ImportSummary, import_orders
from webapp.imports.interrupted import end_stopped_run, fill_figures_of_stopped_run, stopped_message, where_orders_begin
from webapp.imports.models import ColumnMapping, ImportRun
from webapp.imports.reading import count_rows
from webapp.timekeeping import utcnow
from worker import QUEUE_DEFAULT


class ImportRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def upload_folder() -> str:
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    return folder


def start_import_run(upload: FileStorage | None, fmt: str, *, history: bool, dry_run: bool, columns: dict,
                     save_as: str, actor: str) -> ImportRun:
    """Keep the uploaded file, record the run and schedule its job (after the commit)."""
    if upload is None or not upload.filename:
        raise ImportRefused("Choose a CSV file to import.")
    if fmt not in FORMATS:
        raise ImportRefused(f"Choose a format: {', '.join(FORMATS)}.")
    columns = {field: column.strip() for field, column in columns.items() if field in FIELDS and column.strip()}
    path = os.path.join(upload_folder(), f"{uuid.uuid4().hex}.csv")
    upload.save(path)
    if save_as.strip():
        preset = db.session.query(ColumnMapping).filter_by(name=save_as.strip()[:100]).one_or_none()
        if preset is None:
            preset = ColumnMapping(name=save_as.strip()[:100])
            db.session.add(preset)
        preset.format, preset.columns = fmt, columns
    run = record_run(upload.filename, fmt, history=history, dry_run=dry_run, columns=columns, actor=actor,
                     path=path, total_rows=count_rows(path))
    run.job_id = f"import-run-{run.id}"
    schedule_job("worker.jobs.imports.run_import", run.id, job_id=run.job_id, queue=QUEUE_DEFAULT)
    return run


def record_run(filename: str, fmt: str, *, history: bool, dry_run: bool, columns: dict, actor: str,
               path: str | None = None, total_rows: int = 0) -> ImportRun:
    """A new run on record, waiting, with its id; ``path`` is an upload the run removes when it ends."""
    run = ImportRun(filename=os.path.basename(filename)[:255], path=path, format=fmt, history=history,
                    dry_run=dry_run, mapping=columns, state="waiting", actor=actor, summary={"total_rows": total_rows})
    db.session.add(run)
    db.session.flush()
    return run


def run_import(run_id: int, report_progress=lambda done: None, done_before: int | None = None) -> None:
    """Import the run's file; the run records the counts, a preview and the rows it could not take.

    Only a waiting run is begun. One already running was begun by an earlier run of the job that died: it is ended
    as failed (``done_before``: the rows that run reported saved) rather than begun again behind the owner's back.

    However the import ends, the run ends with it (done or failed, with the reason) and the uploaded file is
    removed: a page polling the run must never wait for ever. An unexpected error is logged with its traceback
    and not raised again: the job's retries would find the file gone.
    """
    summary = db.session.scalar(select(ImportRun.summary).where(ImportRun.id == run_id)) or {}
    claimed = db.session.execute(
        update(ImportRun).where(ImportRun.id == run_id, ImportRun.state == "waiting")
        .values(state="running", summary={**summary, **where_orders_begin()})
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    run = db.session.get(ImportRun, run_id)
    if not claimed:
        if run is not None and run.state == "running":
            # An earlier run of this job began it and died (RQ retries a dead worker's job; a job Redis lost is
            # handed over again): its saved batches stay, and the owner decides about the rest (see interrupted.py).
            end_stopped_run(run_id, stopped_message(run, done_before))
        return
    try:
        summary = import_orders(run.path, run.format, history=run.history, dry_run=run.dry_run,
                                columns=run.mapping, actor=run.actor or "import", filename=run.filename,
                                progress=report_progress)
    except Exception as error:
        fail_run(run_id, error)
        return
    finish_run(run_id, summary)


def finish_run(run_id: int, summary: ImportSummary) -> None:
    """The run is done: its counts, preview and the rows it could not take (as many as the summary kept)."""
    run = db.session.get(ImportRun, run_id)
    data = summary.as_dict()
    data.pop("errors")
    data["total_rows"] = run.summary.get("total_rows", 0)
    run.summary = data
    run.errors = [[e.line, e.number, e.reason] for e in summary.errors]
    run.state, run.finished_at = "done", utcnow()
    db.session.commit()
    remove_upload(run.path)


def fail_run(run_id: int, error: BaseException) -> None:
    """The run failed: a file the import refused (ValueError) says why; anything else is logged in full too."""
    db.session.rollback()
    if isinstance(error, ValueError):  # a missing column, a file that is no CSV
        message = str(error)
    else:
        current_app.logger.error("import run %s failed", run_id, exc_info=error)
        message = (f"The import stopped on an unexpected error ({type(error).__name__}: {str(error)[:300]}). "
                   "Orders stored before it are kept; importing the file again skips them.")
    run = db.session.get(ImportRun, run_id)
    fill_figures_of_stopped_run(run)  # with the run's end: should it fail, the run is not ended without it
    run.state, run.summary, run.finished_at = "failed", {"message": message}, utcnow()
    db.session.commit()
    remove_upload(run.path)


def remove_upload(path: str | None) -> None:
    if path and os.path.exists(path):
        os.remove(path)
