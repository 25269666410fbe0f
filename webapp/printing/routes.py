"""Start a print run from the board, the order list or an order page; watch it; download the PDF."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy.orm import undefer

from webapp.extensions import db
from webapp.printing.models import PrintRun
from webapp.printing.runs import PrintRefused, start_print_run
from webapp.views import pdf_response, render_page, safe_next_url
from worker import redis_connection

bp = Blueprint("printing", __name__, url_prefix="/prints")


@bp.post("")
def start():
    """Print the selected orders' invoices or packing slips as one PDF."""
    try:
        run = start_print_run(request.form.get("kind", ""), request.form.getlist("order"), actor=current_user.email)
    except PrintRefused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(safe_next_url(request.form.get("next"), url_for("orders.list_orders")), 303)
    db.session.commit()
    return redirect(url_for("printing.show", run_id=run.id), 303)


def _progress(run: PrintRun) -> tuple[int, int]:
    """(done, total) from the RQ job's meta while it runs."""
    total = len(run.order_numbers)
    if run.finished_at is not None:
        return total, total
    try:
        job = Job.fetch(run.job_id, connection=redis_connection())
    except (NoSuchJobError, RedisError):
        return 0, total
    return int(job.meta.get("done", 0)), total


@bp.get("/<int(max=2147483647):run_id>")
def show(run_id: int):
    """The print run: progress while the worker makes the PDF (polls itself), then the download."""
    run = db.session.get(PrintRun, run_id)
    if run is None:
        abort(404, "There is no such print run.")
    done, total = _progress(run)
    return render_page("printing/page.html", "printing/_run.html", run=run, done=done, total=total)


@bp.get("/<int(max=2147483647):run_id>.pdf")
def download(run_id: int):
    """The print run's PDF."""
    run = db.session.get(PrintRun, run_id, options=[undefer(PrintRun.pdf)])
    if run is None or run.pdf is None:
        abort(404, "This print run has no PDF (yet).")
    return pdf_response(run.pdf, run.filename)
