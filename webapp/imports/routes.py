"""Upload an order file, map its columns, watch the import, read what was skipped."""
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from webapp.exports.routes import csv_lines
from webapp.extensions import db
from webapp.imports.formats import FIELDS, FORMATS
from webapp.imports.models import ColumnMapping, ImportRun
from webapp.imports.runs import ImportRefused, start_import_run
from webapp.views import render_page
from worker import redis_connection

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.get("")
def new_import():
    """The upload form, with the saved column mappings, and the recent imports."""
    presets = db.session.scalars(select(ColumnMapping).order_by(ColumnMapping.name)).all()
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(20)).all()
    chosen = next((p for p in presets if p.name == request.args.get("preset")), None)
    return render_page("imports/page.html", "imports/_form.html", presets=presets, runs=runs, chosen=chosen,
                       formats=FORMATS, fields=FIELDS)


@bp.post("")
def start():
    """Keep the file and hand the import to the worker."""
    try:
        run = start_import_run(
            request.files.get("file"), request.form.get("format", "generic"),
            history=bool(request.form.get("history")), dry_run=bool(request.form.get("dry_run")),
            columns={field: request.form.get(f"map_{field}", "") for field in FIELDS},
            save_as=request.form.get("save_as", ""), actor=current_user.email)
    except ImportRefused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("imports.new_import"), 303)
    db.session.commit()
    return redirect(url_for("imports.show", run_id=run.id), 303)


def _done(run: ImportRun) -> int:
    if run.finished_at is not None:
        return run.summary.get("rows", 0)
    try:
        return int(Job.fetch(run.job_id, connection=redis_connection()).meta.get("done", 0))
    except (NoSuchJobError, RedisError):
        return 0


@bp.get("/<int(max=2147483647):run_id>")
def show(run_id: int):
    """The import: a progress bar while the worker reads the file (polls itself), then the summary and preview."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        abort(404, "There is no such import.")
    return render_page("imports/run_page.html", "imports/_run.html", run=run, done=_done(run),
                       total=max(run.summary.get("total_rows", 0), 1))


@bp.get("/<int(max=2147483647):run_id>/errors.csv")
def errors_csv(run_id: int):
    """The rows the import skipped: line, order and reason."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        abort(404, "There is no such import.")
    # An order number or reason is the file's own text: a spreadsheet must not run it as a formula.
    return Response("".join(csv_lines(["line", "order", "reason"], run.errors)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-{run.id}-errors.csv"'})
