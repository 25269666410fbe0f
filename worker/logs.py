"""Job logs that say which job wrote them: every record from our code carries the RQ job id."""
import logging
import os
import sys

from rq import get_current_job

FORMAT = "%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s"


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job is not None else "-"
        return True


def configure_job_logging(stream=None, log_format: str | None = None) -> logging.Handler:
    """Send the webapp's and the jobs' log records, stamped with the job id, to ``stream`` (stderr); as JSON
    lines when LOG_FORMAT=json."""
    from webapp.logs import JsonFormatter

    handler = logging.StreamHandler(stream or sys.stderr)
    json_lines = (log_format or os.environ.get("LOG_FORMAT", "text")) == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(FORMAT))
    handler.addFilter(JobIdFilter())
    handler.solo_oms = "job"  # webapp/logs.py leaves it in place instead of adding its own
    for name in ("webapp", "worker"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        if json_lines:
            logger.propagate = False
    return handler
