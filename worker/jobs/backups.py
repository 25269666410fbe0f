"""The nightly backup."""
import logging

from worker.app import job_context
from worker.jobs.alerts import one_at_a_time

log = logging.getLogger(__name__)


class BackupFailed(Exception):
    """The nightly backup could not be taken or did not verify (the reason is also recorded for Settings)."""


def backup_database() -> dict:
    """Copy the database into BACKUP_DIR, verify the copy by restoring it, and keep the newest BACKUP_KEEP."""
    from webapp.backups.service import take_backup

    with job_context(), one_at_a_time("backup-database") as mine:
        if not mine:
            return {"skipped": "another backup is running"}
        record = take_backup()
        result = {"file": record.file_name, "size": record.size_bytes, "verified": record.verified,
                  "error": record.error}
    if record.error:
        # Failing the job puts it among the failed jobs, so the failed-job scan alerts the owner as well.
        raise BackupFailed(record.error)
    log.info("backup: %s", result)
    return result
