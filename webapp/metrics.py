"""GET /metrics in the Prometheus text format.

- Request latency by Flask endpoint and orders created by channel live in each web process; with
  PROMETHEUS_MULTIPROC_DIR set (the Procfile sets it) prometheus_client keeps them in files there and a scrape
  of any gunicorn worker adds up all of them.
- Job outcomes are counted in Redis by the RQ workers (they may run on other machines, and each job runs in a
  forked child that exits), and queue depths are read from Redis, both at scrape time.

Who may scrape: requests from this machine's loopback address that did not come through a proxy (no
X-Forwarded-For), or anyone with `Authorization: Bearer <METRICS_TOKEN>`. Everyone else gets 404, as if there
were no such page. Loopback alone is not enough behind a reverse proxy on the same host, hence the header check.
"""
import hmac
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event
from sqlalchemy.orm import Session

bp = Blueprint("metrics", __name__)

REQUEST_LATENCY = Histogram(
    "solo_oms_request_duration_seconds", "Time to answer a request, by Flask endpoint and method.",
    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ORDERS_CREATED = Counter("solo_oms_orders_created", "Orders stored (committed), by channel.", ["channel"])
JOB_OUTCOMES_KEY = "solo-oms:metrics:job-outcomes"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.teardown_request(_observe_latency)


def _start_timer():
    g.metrics_started = time.perf_counter()


def _observe_latency(_error=None):
    started = g.pop("metrics_started", None)
    if started is not None:
        REQUEST_LATENCY.labels(request.endpoint or "unmatched", request.method).observe(
            time.perf_counter() - started)


def count_order_when_committed(session: Session, channel: str) -> None:
    """Count an order once its transaction commits (a rolled-back order was never created)."""
    session.info.setdefault("orders_created", []).append(channel)


@event.listens_for(Session, "after_commit")
def _count_committed_orders(session):
    for channel in session.info.pop("orders_created", ()):
        ORDERS_CREATED.labels(channel).inc()


@event.listens_for(Session, "after_rollback")  # the real rollback, not a savepoint's
def _forget_rolled_back_orders(session):
    session.info.pop("orders_created", None)


def record_job_outcome(connection, function: str, outcome: str) -> None:
    """Called by the RQ worker after each job: outcome is finished or failed (each failed attempt counts)."""
    connection.hincrby(JOB_OUTCOMES_KEY, f"{function}|{outcome}", 1)


class RedisCollector:
    """Job outcomes and queue depths, read from Redis when scraped."""

    def collect(self):
        from rq import Queue
        from rq.registry import FailedJobRegistry

        from worker import QUEUES, redis_connection

        connection = redis_connection()
        outcomes = CounterMetricFamily("solo_oms_jobs", "Background jobs run, by function and outcome.",
                                       labels=["function", "outcome"])
        depth = GaugeMetricFamily("solo_oms_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily("solo_oms_queue_failed", "Jobs in each queue's failed registry.",
                                   labels=["queue"])
        up = GaugeMetricFamily("solo_oms_redis_up", "1 when Redis answered this scrape.")
        try:
            for field, count in connection.hgetall(JOB_OUTCOMES_KEY).items():
                function, _, outcome = field.decode().rpartition("|")
                outcomes.add_metric([function, outcome], int(count))
            for name in QUEUES:
                depth.add_metric([name], Queue(name, connection=connection).count)
                failed.add_metric([name], FailedJobRegistry(name, connection=connection).count)
            up.add_metric([], 1)
        except Exception:  # noqa: BLE001 - Redis down: say so instead of failing the whole scrape
            up.add_metric([], 0)
            yield up
            return
        yield from (outcomes, depth, failed, up)


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    proxied = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote_addr in LOOPBACK and not proxied


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


@bp.route("/metrics")
def metrics():
    """Prometheus metrics: from localhost, or with the METRICS_TOKEN bearer token."""
    if not _allowed():
        abort(404)
    from_redis = CollectorRegistry()
    from_redis.register(RedisCollector())
    body = generate_latest(process_registry()) + generate_latest(from_redis)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
