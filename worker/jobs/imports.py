"""Import runs: a shop's CSV file imported by the worker, with progress in the job's meta."""
from rq import get_current_job

from worker.app import job_context, stall_for_fault_tests

MID_IMPORT = ".mid-import"  # where the fault tests stop an import: after a batch was saved and reported


def run_import(run_id: int) -> None:
    """Import the run's file; the page polling it reads job.meta["done"] (rows read so far, every batch saved)."""
    from webapp.imports.interrupted import rows_done
    from webapp.imports.runs import run_import as import_run

    job = get_current_job()

    def report(done: int) -> None:
        if job is not None:
            job.meta.update(done=done)
            job.save_meta()
            stall_for_fault_tests(MID_IMPORT)

    with job_context():
        import_run(run_id, report, done_before=rows_done(job))
