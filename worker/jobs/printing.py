"""Print runs: many orders' invoices or packing slips as one PDF, with progress in the job's meta."""
from rq import get_current_job

from worker.app import job_context
from worker.jobs.invoices import is_last_attempt


def make_print_run(run_id: int) -> str:
    """Make the run's PDF; the page polling it reads job.meta["done"] and ["total"]."""
    from webapp.printing.runs import make_print_run as render_run
    from webapp.printing.runs import record_run_failure

    job = get_current_job()

    def report(done: int, total: int) -> None:
        if job is not None:
            job.meta.update(done=done, total=total)
            job.save_meta()

    with job_context():
        try:
            return render_run(run_id, report)
        except Exception as error:
            if is_last_attempt():
                record_run_failure(run_id, error)
            raise
