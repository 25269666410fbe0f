"""Print runs: many orders' invoices or packing slips as one PDF, with progress in the job's meta."""
from rq import get_current_job

from worker.app import job_context


def make_print_run(run_id: int) -> str:
    """Make the run's PDF; the page polling it reads job.meta["done"] and ["total"]."""
    from webapp.printing.runs import make_print_run as make

    job = get_current_job()

    def report(done: int, total: int) -> None:
        if job is not None:
            job.meta.update(done=done, total=total)
            job.save_meta()

    with job_context():
        return make(run_id, report)
