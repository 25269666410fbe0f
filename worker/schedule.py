"""Every periodic job, declared once. Run by `rq cron worker.schedule` (see the Procfile)."""
from rq import cron

from worker import QUEUE_DEFAULT, QUEUE_EMAILS, QUEUE_FORECASTS
from worker.jobs.alerts import daily_digest, scan_failed_jobs, scan_stock_and_deadlines
from worker.jobs.backups import backup_database
from worker.jobs.dashboard import store_changed_sales_days
from worker.jobs.dispatch import dispatch_pending_jobs, prune_dispatched_jobs
from worker.jobs.forecasts import forecast_every_product
from worker.jobs.heartbeat import record_heartbeat

# (function, queue, seconds between runs, or a cron string in the cron process's local time)
PERIODIC_JOBS = (
    (record_heartbeat, QUEUE_DEFAULT, 60),
    (dispatch_pending_jobs, QUEUE_DEFAULT, 60),  # work scheduled while Redis was away
    (store_changed_sales_days, QUEUE_DEFAULT, 60),  # the dashboard's daily rollups
    (scan_stock_and_deadlines, QUEUE_DEFAULT, 300),
    (scan_failed_jobs, QUEUE_DEFAULT, 300),
    (daily_digest, QUEUE_EMAILS, "0 * * * *"),  # hourly: sent once a day, from 06:00 shop time
    (prune_dispatched_jobs, QUEUE_DEFAULT, "30 3 * * *"),
    (forecast_every_product, QUEUE_FORECASTS, "15 2 * * *"),  # nightly, then chunk jobs of 25 products
    (backup_database, QUEUE_DEFAULT, "45 1 * * *"),  # nightly, before the forecasts write their results
)
# Jobs that may run longer than RQ's default three minutes.
JOB_TIMEOUTS = {backup_database: 3600}

for function, queue_name, every in PERIODIC_JOBS:
    if isinstance(every, str):
        cron.register(function, queue_name=queue_name, cron=every, job_timeout=JOB_TIMEOUTS.get(function))
    else:
        cron.register(function, queue_name=queue_name, interval=every, job_timeout=JOB_TIMEOUTS.get(function))
