"""Webhooks out: signed POSTs to a real local HTTP server, delivered by a real RQ worker after the commit."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Retry
from sqlalchemy import func, select

from tests.conftest import order_body
from tests.test_emails import run_jobs
from webapp.background import dispatch
from webapp.background.models import PendingJob
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.webhooks_out.models import Webhook, WebhookDelivery
from worker import redis_connection


class Receiver:
    """An HTTP endpoint in a thread that records every request and answers with the next planned status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": body})
                code = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/solo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        return [request["headers"]["X-SoloOMS-Event"] for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def owner(app, client, auth, make_product):
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=5, reorder_point=2)
    auth.login()
    return client


def add_webhook(client, url, events=("order.created", "order.status_changed", "stock.low")) -> Webhook:
    response = client.post("/settings/webhooks", data={"url": url, "events": list(events)})
    assert response.status_code == 303
    return db.session.scalars(select(Webhook).where(Webhook.url == url)).one()


def signed_correctly(request, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-SoloOMS-Signature"], expected)


def test_orders_are_posted_signed_once_the_worker_runs(owner, api, receiver):
    webhook = add_webhook(owner, receiver.url)
    assert api.post("/orders", order_body("MUG-BLU", 1), key="k1").status_code == 201
    assert receiver.requests == []  # nothing is sent from the request itself
    run_jobs()
    assert receiver.events() == ["order.created", "order.status_changed"]
    created, confirmed = (json.loads(request["body"]) for request in receiver.requests)
    for request, body in zip(receiver.requests, (created, confirmed)):
        assert request["path"] == "/hooks/solo"
        assert request["headers"]["Content-Type"] == "application/json"
        assert {"X-SoloOMS-Event", "X-SoloOMS-Delivery", "X-SoloOMS-Signature"} <= set(request["headers"].keys())
        assert signed_correctly(request, webhook.secret)
        assert request["headers"]["X-SoloOMS-Delivery"] == body["delivery_id"]
    assert created["event"] == "order.created"
    assert created["data"]["order"]["number"] == "SO-000001"
    assert created["data"]["order"]["lines"] == [{"sku": "MUG-BLU", "name": "Product MUG-BLU", "quantity": 1,
                                                  "unit_price": "14.00", "line_total": "14.00"}]
    assert (confirmed["data"]["from"], confirmed["data"]["to"]) == ("pending", "confirmed")

    api.post("/orders/SO-000001/transitions", {"to": "processing"}, key="k2")
    run_jobs()
    changed = json.loads(receiver.requests[-1]["body"])
    assert changed["event"] == "order.status_changed" and changed["data"]["to"] == "processing"
    log = owner.get("/settings/webhooks/deliveries").get_data(as_text=True)
    assert log.count("delivered") >= 3 and "204" in log


def test_a_wrong_secret_does_not_verify(owner, api, receiver):
    add_webhook(owner, receiver.url, events=["order.created"])
    api.post("/orders", order_body("MUG-BLU", 1), key="k1")
    run_jobs()
    assert len(receiver.requests) == 1
    assert not signed_correctly(receiver.requests[0], "not the secret")


def test_a_failing_endpoint_is_retried_then_failed_and_visible_then_sent_again(owner, api, receiver,
                                                                             monkeypatch):
    monkeypatch.setattr(dispatch, "RETRY", Retry(max=2))  # the real backoff waits minutes; retry at once here
    add_webhook(owner, receiver.url, events=["order.created"])
    receiver.answers = [500, 503, 500]
    api.post("/orders", order_body("MUG-BLU", 1), key="k1")
    run_jobs()
    assert len(receiver.requests) == 3  # the first try and two retries, the same delivery each time
    assert len({request["headers"]["X-SoloOMS-Delivery"] for request in receiver.requests}) == 1
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 500)
    assert delivery.last_error == "HTTP 500 from the endpoint"
    page = owner.get("/settings/webhooks/deliveries?status=failed").get_data(as_text=True)
    assert "HTTP 500 from the endpoint" in page and "Send again" in page

    assert owner.post(f"/settings/webhooks/deliveries/{delivery.id}/send-again").status_code == 303
    run_jobs()
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 4, 204)
    assert delivery.last_error is None
    assert len(receiver.requests) == 4
    # A second click on a delivered one does nothing.
    owner.post(f"/settings/webhooks/deliveries/{delivery.id}/send-again")
    run_jobs()
    assert len(receiver.requests) == 4


def test_an_unreachable_endpoint_is_recorded(owner, api, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setattr(dispatch, "RETRY", Retry(max=1))
    add_webhook(owner, f"http://127.0.0.1:{free_port()}/nobody", events=["order.created"])
    api.post("/orders", order_body("MUG-BLU", 1), key="k1")
    run_jobs()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    db.session.refresh(delivery)
    assert delivery.status == "failed" and delivery.attempts == 2 and delivery.response_code is None
    assert delivery.last_error.startswith("ConnectionRefusedError")


def test_no_webhook_no_delivery(owner, api, receiver):
    api.post("/orders", order_body("MUG-BLU", 1), key="k1")
    run_jobs()
    assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0
    assert db.session.scalar(select(func.count(PendingJob.id)).where(PendingJob.job_id.like("webhook-%"))) == 0
    assert receiver.requests == []


def test_low_stock_is_sent_only_to_webhooks_that_want_it(owner, api, receiver):
    from worker.jobs.alerts import scan_stock_and_deadlines

    webhook = add_webhook(owner, receiver.url, events=["stock.low"])
    api.post("/orders", order_body("MUG-BLU", 4), key="k1")  # 5 on hand, 4 reserved: 1 left, reorder point 2
    run_jobs()
    assert receiver.requests == []  # no order events for this one
    scan_stock_and_deadlines()
    scan_stock_and_deadlines()  # the alert is open already: not sent twice
    run_jobs()
    assert receiver.events() == ["stock.low"]
    assert signed_correctly(receiver.requests[0], webhook.secret)
    product = json.loads(receiver.requests[0]["body"])["data"]["product"]
    assert product == {"sku": "MUG-BLU", "name": "Product MUG-BLU", "on_hand": 5, "reserved": 4, "available": 1,
                       "reorder_point": 2}
    assert db.session.get(Product, 1) is not None


def test_an_order_that_fails_validation_sends_nothing(owner, api, receiver):
    add_webhook(owner, receiver.url)
    assert api.post("/orders", order_body("NOPE", 1), key="k1").status_code == 422
    run_jobs()
    assert receiver.requests == [] and db.session.scalar(select(func.count(WebhookDelivery.id))) == 0


@pytest.mark.parametrize("form, field", [
    ({"url": "ftp://example.com/x", "events": ["order.created"]}, "url"),
    ({"url": "not a url", "events": ["order.created"]}, "url"),
    ({"url": "https://example.com/" + "x" * 500, "events": ["order.created"]}, "url"),
    ({"url": "https://example.com/hook"}, "events"),
    ({"url": "https://example.com/hook", "events": ["order.deleted"]}, "events"),
])
def test_bad_webhook_settings_are_refused_naming_the_field(owner, form, field):
    response = owner.post("/settings/webhooks", data=form)
    assert response.status_code == 422
    assert f"{field}: " in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Webhook.id))) == 0


def test_the_owner_sees_the_secret_and_can_remove_a_webhook(owner, receiver):
    webhook = add_webhook(owner, receiver.url)
    assert webhook.secret in owner.get("/settings/webhooks").get_data(as_text=True)
    assert owner.post(f"/settings/webhooks/{webhook.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count(Webhook.id))) == 0


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_only_the_owner_manages_webhooks(client, auth, role):
    auth.login(email=f"{role}@example.com", role=role)
    assert client.get("/settings/webhooks").status_code == 403
    assert client.get("/settings/webhooks/deliveries").status_code == 403
    assert client.post("/settings/webhooks", data={"url": "https://example.com", "events": ["stock.low"]}
                       ).status_code == 403


def test_a_send_cut_off_by_a_dying_worker_is_claimed_again_later_but_not_while_it_may_still_run(
        owner, api, receiver):
    from datetime import timedelta

    from webapp.timekeeping import utcnow
    from webapp.webhooks_out.outbox import deliver

    add_webhook(owner, receiver.url, events=["order.created"])
    api.post("/orders", order_body("MUG-BLU", 1), key="k1")
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    # The worker claimed it and died before any outcome was written:
    delivery.status, delivery.sending_since, delivery.attempts = "sending", utcnow(), 1
    db.session.commit()
    assert deliver(delivery.id).startswith("skipped")  # a send that may still be under way is left alone
    assert "Send again" not in owner.get("/settings/webhooks/deliveries").get_data(as_text=True)

    delivery = db.session.get(WebhookDelivery, delivery.id)
    delivery.sending_since = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert "Send again" in owner.get("/settings/webhooks/deliveries").get_data(as_text=True)
    assert deliver(delivery.id).startswith("delivered")
    delivery = db.session.get(WebhookDelivery, delivery.id)
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.requests) == 1


def test_ids_too_large_for_the_database_are_404_not_errors(owner):
    huge = 10**20
    assert owner.post(f"/settings/webhooks/{huge}/delete").status_code == 404
    assert owner.post(f"/settings/webhooks/deliveries/{huge}/send-again").status_code == 404
