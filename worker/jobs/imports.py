"""Import runs: a shop's CSV file imported by the worker, with progress in the job's meta."""
from rq import get_current_job

from worker.app import job_context


def run_import(run_id: int) -> None:
    """Import the run's file; the page polling it reads job.meta["done"] (rows read so far)."""
    from webapp.imports.runs import run_import as import_run

    job = get_current_job()

    def report(done: int) -> None:
        if job is not None:
            job.meta.update(done=done)
            job.save_meta()

    with job_context():
        import_run(run_id, report)
