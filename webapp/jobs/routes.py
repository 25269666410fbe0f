"""Jobs page (owner only): queued, running and failed jobs with their errors, and a retry button."""
from flask import Blueprint, flash, redirect, url_for
from redis.exceptions import RedisError

from webapp.jobs.registry import jobs_by_state, retry_failed_job
from webapp.views import render_page

bp = Blueprint("jobs", __name__, url_prefix="/jobs")



@bp.route("")
def list_jobs():
    """What the workers have to do, are doing, and could not do."""
    try:
        states, redis_error = jobs_by_state(), None
    except RedisError as error:
        states, redis_error = {}, f"Redis cannot be reached ({type(error).__name__}); jobs wait in the database."
    return render_page("jobs/page.html", "jobs/_jobs.html", states=states, redis_error=redis_error)


@bp.post("/<job_id>/retry")
def retry(job_id: str):
    """Run a failed job again."""
    try:
        requeued = retry_failed_job(job_id)
    except RedisError:
        requeued = False
    flash(f"Job {job_id} is queued again." if requeued else f"There is no failed job {job_id} to retry.",
          "success" if requeued else "error")
    return redirect(url_for("jobs.list_jobs"), 303)
