"""/healthz, the Redis connection, and the periodic jobs run for real by an RQ worker."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from worker import (
    HEARTBEAT_KEY,
    QUEUE_DEFAULT,
    QUEUES,
    redis_connection,
    worker_heartbeat_age,
)


def test_healthz_reports_database_and_redis(client, app):
    redis_connection().delete(HEARTBEAT_KEY)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok",
                             "checks": {"database": "ok", "redis": "ok", "worker": "no recent heartbeat"}}
    assert "password" not in response.get_data(as_text=True)


def test_healthz_is_503_when_redis_is_down(make_app):
    from tests.conftest import free_port

    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")
    assert response.json["checks"]["database"] == "ok"


def test_heartbeat_job_runs_in_a_real_worker_and_healthz_sees_it(client, app):
    connection = redis_connection()
    connection.delete(HEARTBEAT_KEY)
    queue = Queue(QUEUE_DEFAULT, connection=connection)
    from worker.jobs.heartbeat import record_heartbeat

    job = queue.enqueue(record_heartbeat)
    SimpleWorker([queue], connection=connection).work(burst=True)
    job.refresh()
    assert job.is_finished
    assert worker_heartbeat_age() < 60
    assert client.get("/healthz").json["checks"]["worker"] == "ok"


def test_schedule_declares_each_job_once_and_every_job_exists(app):
    from worker import schedule

    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("worker.schedule")  # what `rq cron worker.schedule` loads
    names = [job.func.__module__ + "." + job.func.__name__ for job in scheduler.get_jobs()]
    declared = [f"{function.__module__}.{function.__name__}" for function, _, _ in schedule.PERIODIC_JOBS]
    assert sorted(names) == sorted(declared)
    assert len(declared) == len(set(declared))
    for function, queue_name, interval in schedule.PERIODIC_JOBS:
        assert callable(function) and queue_name in QUEUES
        assert (interval > 0) if isinstance(interval, int) else len(interval.split()) == 5


def test_job_log_lines_carry_the_job_id(app):
    import io
    import logging

    from worker.logs import configure_job_logging

    stream = io.StringIO()
    handler = configure_job_logging(stream)
    try:
        queue = Queue(QUEUE_DEFAULT, connection=redis_connection())
        job = queue.enqueue("worker.jobs.alerts.scan_stock_and_deadlines", job_id="scan-for-the-log")
        SimpleWorker([queue], connection=redis_connection()).work(burst=True)
        assert job.get_status(refresh=True) == "finished"
    finally:
        for name in ("webapp", "worker"):
            logging.getLogger(name).removeHandler(handler)
    assert "[job scan-for-the-log] worker.jobs.alerts: alerts raised" in stream.getvalue()


@pytest.mark.parametrize("queues, loaded", [
    (["forecasts"], {"webapp.forecasting.prophet_fit"}),
    (["documents"], {"weasyprint"}),
    (["default", "emails"], set()),
])
def test_a_worker_warms_up_only_what_its_queues_need(database_url, redis_server, queues, loaded):
    """WeasyPrint (~0.5 s, ~40 MB) for the documents queue, Prophet's fit for the forecasts queue, nothing else."""
    script = ("import sys; from worker.app import ShopWorker; from worker import redis_connection; "
              f"ShopWorker({queues!r}, connection=redis_connection()).work(burst=True); "
              "print(sorted(name for name in ('webapp.forecasting.prophet_fit', 'weasyprint') if name in sys.modules))")
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server["url"], "SECRET_KEY": "test"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == repr(sorted(loaded))
