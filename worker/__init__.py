"""The one place that owns the Redis connection and the queue names."""
import os
import time

from redis import Redis

QUEUE_DEFAULT = "default"
QUEUE_EMAILS = "emails"
QUEUE_DOCUMENTS = "documents"
QUEUE_FORECASTS = "forecasts"
QUEUES = (QUEUE_DEFAULT, QUEUE_EMAILS, QUEUE_DOCUMENTS, QUEUE_FORECASTS)

HEARTBEAT_KEY = "solo-oms:worker-heartbeat"


def redis_url() -> str:
    """REDIS_URL from the running app's config, else the environment, else the embedded default."""
    try:
        from flask import current_app

        return current_app.config["REDIS_URL"]
    except RuntimeError:  # outside an app context: the worker and cron processes
        return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


_connections: dict[str, Redis] = {}


def redis_connection() -> Redis:
    """A shared client per URL (redis-py pools connections and is thread-safe)."""
    url = redis_url()
    if url not in _connections:
        _connections[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return _connections[url]


def execution_is_running(execution_key: str) -> bool:
    """Whether RQ still counts an execution ("<job id>:<execution id>") as running: listed in its queue's
    started registry with a heartbeat that has not lapsed. One whose worker was killed drops out when RQ's
    cleanup hands its job on for a retry, or when its heartbeat expires."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    connection = redis_connection()
    job_id = execution_key.rsplit(":", 1)[0]
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    expires = connection.zscore(StartedJobRegistry(job.origin, connection=connection).key, execution_key)
    return expires is not None and expires > time.time()


def worker_heartbeat_age() -> float | None:
    """Seconds since a worker last ran the heartbeat job, or None if never."""
    value = redis_connection().get(HEARTBEAT_KEY)
    return None if value is None else time.time() - float(value)
