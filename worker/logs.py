"""Job logs that say which job wrote them: every record from our code carries the RQ job id."""
import logging
import sys

from rq import get_current_job

FORMAT = "%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s"


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job is not None else "-"
        return True


def configure_job_logging(stream=None) -> logging.Handler:
    """Send the webapp's and the jobs' log records, stamped with the job id, to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(JobIdFilter())
    for name in ("webapp", "worker"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return handler
