"""A periodic job whose only work is to prove that the scheduler and a worker are running."""
import time

from worker import HEARTBEAT_KEY, redis_connection


def record_heartbeat() -> float:
    """Store the time a worker last picked up a job; /healthz reads it."""
    now = time.time()
    redis_connection().set(HEARTBEAT_KEY, now, ex=3600)
    return now
