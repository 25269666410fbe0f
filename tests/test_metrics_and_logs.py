"""/metrics in the Prometheus text format (who may read it, and that the numbers move), and JSON log lines."""
import io
import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue, SimpleWorker

from tests.conftest import order_body
from worker import QUEUE_DEFAULT, QUEUE_FORECASTS, redis_connection
from worker.app import CountsJobOutcomes


def scrape(client, **kwargs) -> dict:
    """{(name, labels as a sorted tuple): value} of every sample /metrics answers with."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class CountingWorker(CountsJobOutcomes, SimpleWorker):
    """The outcome counting of the production worker, without forking (as the other worker tests do)."""


def test_metrics_parse_and_latency_is_by_endpoint_not_path(client, make_product):
    make_product("MET-1")
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get("/no/such/page/123")
    after = scrape(client)
    count = "solo_oms_request_duration_seconds_count"
    assert value(after, count, endpoint="health.healthz", method="GET") == \
        value(before, count, endpoint="health.healthz", method="GET") + 3
    assert value(after, count, endpoint="unmatched", method="GET") >= 1
    assert not any("/no/such" in str(labels) for _, labels in after)
    assert value(after, "solo_oms_redis_up") == 1


def test_orders_created_are_counted_by_channel_once_committed(client, api, make_product):
    make_product("MET-1", stock=5)
    before = value(scrape(client), "solo_oms_orders_created_total", channel="api")
    assert api.post("/orders", order_body("MET-1", 1), key="met-1").status_code == 201
    assert api.post("/orders", order_body("MET-1", 1), key="met-1").status_code in (200, 201)  # a replay
    assert api.post("/orders", order_body("NO-SUCH", 1)).status_code == 422  # nothing stored
    assert value(scrape(client), "solo_oms_orders_created_total", channel="api") == before + 1


def test_job_outcomes_and_queue_depth_come_from_redis(client, app):
    connection = redis_connection()
    queue = Queue(QUEUE_DEFAULT, connection=connection)
    waiting = Queue(QUEUE_FORECASTS, connection=connection)
    before = scrape(client)
    queue.enqueue("worker.jobs.heartbeat.record_heartbeat")
    queue.enqueue("operator.truediv", 1, 0)  # fails: ZeroDivisionError
    waiting.enqueue("worker.jobs.heartbeat.record_heartbeat")
    waiting.enqueue("worker.jobs.heartbeat.record_heartbeat")
    try:
        assert value(scrape(client), "solo_oms_queue_depth", queue=QUEUE_DEFAULT) == 2
        CountingWorker([queue], connection=connection).work(burst=True)
        after = scrape(client)
    finally:
        waiting.empty()
    jobs = "solo_oms_jobs_total"
    heartbeat = "worker.jobs.heartbeat.record_heartbeat"
    assert value(after, jobs, function=heartbeat, outcome="finished") == \
        value(before, jobs, function=heartbeat, outcome="finished") + 1
    assert value(after, jobs, function="operator.truediv", outcome="failed") == \
        value(before, jobs, function="operator.truediv", outcome="failed") + 1
    assert value(after, "solo_oms_queue_depth", queue=QUEUE_DEFAULT) == 0
    assert value(after, "solo_oms_queue_depth", queue=QUEUE_FORECASTS) == 2
    assert value(after, "solo_oms_queue_failed", queue=QUEUE_DEFAULT) >= 1


@pytest.mark.app_config(METRICS_TOKEN="scrape-secret")
def test_metrics_are_for_localhost_or_the_token_holder(client):
    assert client.get("/metrics").status_code == 200  # localhost, no sign-in
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    # Through a reverse proxy on the same machine the address is loopback, but it is not a local scrape.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert scrape(client, environ_base=outside, headers={"Authorization": "Bearer scrape-secret"})


@pytest.fixture
def restore_loggers():
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
             for name in ("webapp", "worker")}
    yield
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def test_json_web_logs_carry_the_request_id(make_app, restore_loggers, capsys):
    app = make_app(LOG_FORMAT="json")

    @app.route("/log-something")
    def log_something():
        app.logger.warning("packing %s", "SO-000001")
        return "ok"

    from webapp.auth import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.add("log_something")
    try:
        response = app.test_client().get("/log-something", headers={"X-Request-ID": "req-42"})
    finally:
        PUBLIC_ENDPOINTS.discard("log_something")
    assert response.headers["X-Request-ID"] == "req-42"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    line = next(line for line in lines if line["message"] == "packing SO-000001")
    assert line["level"] == "WARNING" and line["logger"] == "webapp" and line["request_id"] == "req-42"
    assert line["time"].endswith("+00:00")


def test_json_worker_logs_carry_the_job_id(app, restore_loggers):
    from worker.logs import configure_job_logging

    stream = io.StringIO()
    configure_job_logging(stream, log_format="json")
    queue = Queue(QUEUE_DEFAULT, connection=redis_connection())
    job = queue.enqueue("worker.jobs.alerts.scan_stock_and_deadlines", job_id="scan-for-the-json-log")
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    assert job.get_status(refresh=True) == "finished"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(line for line in lines if line["message"].startswith("alerts raised"))
    assert line["job_id"] == "scan-for-the-json-log" and line["logger"] == "worker.jobs.alerts"
    assert line["level"] == "INFO"
