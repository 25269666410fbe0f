"""Upload an order file, map its columns, watch the import, read what was skipped."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.exports.routes import csv_lines
from webapp.extensions import db
from webapp.imports.formats import FIELDS, FORMATS
from webapp.imports.models import ColumnMapping, ImportRun
from webapp.imports.runs import ImportRefused, start_import_run
from webapp.views import render_page
from worker import redis_connection

bp = Blueprint("imports", __name__, url_prefix="/imports")


class ImportUploadLimit:
    """Mixed into the app's request class: bodies stay within MAX_CONTENT_LENGTH, except the import page's upload,
    which may reach IMPORT_MAX_BYTES.

    Decided from the matched endpoint before anything reads the form (CSRF and the NUL check read it ahead of the
    view); werkzeug spools a large file part to a temporary file, so the upload never sits in memory.
    """

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.endpoint == "imports.start":
            return current_app.config["IMPORT_MAX_BYTES"]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


@bp.errorhandler(RequestEntityTooLarge)
def file_too_large(error):
    """The form again, saying how large a file may be and how to get past it."""
    limit = current_app.config["IMPORT_MAX_BYTES"]
    size = f"{limit / 1024 / 1024:,.0f} MB" if limit >= 1024 * 1024 else f"{limit / 1024:,.0f} KB"
    flash(f"The file is larger than {size}, the most an import takes. Split it into smaller files, or raise "
          "IMPORT_MAX_BYTES.", "error")
    return _form_page(413)


@bp.get("")
def new_import():
    """The upload form, with the saved column mappings, and the recent imports."""
    return _form_page()


def _form_page(status: int = 200):
    presets = db.session.scalars(select(ColumnMapping).order_by(ColumnMapping.name)).all()
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(20)).all()
    chosen = next((p for p in presets if p.name == request.args.get("preset")), None)
    return render_page("imports/page.html", "imports/_form.html", status, presets=presets, runs=runs,
                       chosen=chosen, formats=FORMATS, fields=FIELDS)


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
