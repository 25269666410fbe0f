"""Every periodic job, declared once. Run by `rq cron worker/schedule.py` (see the Procfile)."""
from rq import cron

from worker import QUEUE_DEFAULT
from worker.jobs.dispatch import dispatch_pending_jobs
from worker.jobs.heartbeat import record_heartbeat

# (function, queue, seconds between runs)
PERIODIC_JOBS = (
    (record_heartbeat, QUEUE_DEFAULT, 60),
    (dispatch_pending_jobs, QUEUE_DEFAULT, 60),  # work scheduled while Redis was away
)

for function, queue_name, interval in PERIODIC_JOBS:
    cron.register(function, queue_name=queue_name, interval=interval)
