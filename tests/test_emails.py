"""Emails: queued with the order, delivered by a real RQ worker to a real SMTP server, exactly once."""
import email
import email.policy
import shutil
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from tests.conftest import free_port, order_body
from webapp.auth.tokens import create_api_token
from webapp.background.dispatch import dispatch_pending
from webapp.background.models import PendingJob
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.settings.models import current_settings
from worker import QUEUES, redis_connection
from worker.jobs.emails import send_email


class Inbox:
    """An in-process SMTP server that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "from": envelope.mail_from, "message": message})
        return "250 OK"

    def subjects(self):
        return sorted(m["message"]["Subject"] for m in self.messages)

    def wait_for(self, count, timeout=5.0):
        deadline = time.time() + timeout
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}?starttls=false"
    handler.port = controller.port
    yield handler
    controller.stop()


def run_jobs(connection=None):
    """A real RQ worker, in this process, until the queues are empty."""
    connection = connection or redis_connection()
    SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(burst=True)


@pytest.fixture
def mail_app(app, inbox, tmp_path):
    """The app sending to the test's SMTP server, with a shop email for the owner's notices."""
    app.config.update(SMTP_URL=inbox.url, OUTBOX_DIR=str(tmp_path / "outbox"))
    redis_connection().flushdb()  # no jobs left over from other tests
    settings = current_settings()
    settings.shop_email = "owner@clay.example"
    settings.shop_name = "Clay & Co"
    db.session.commit()
    return app


@pytest.fixture
def api_token(mail_app, make_user):
    token = create_api_token(make_user(email="shop@example.com"), ["orders:read", "orders:write"])
    db.session.commit()
    return token


def post(client, path, body, token):
    return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})


def test_new_order_emails_the_customer_and_the_owner(mail_app, api_token, inbox, make_product):
    make_product("MUG-BLU", name="Blue mug", stock=5)
    client = mail_app.test_client()
    assert post(client, "/orders", order_body("MUG-BLU", 2), api_token).status_code == 201
    run_jobs()
    inbox.wait_for(2)
    assert inbox.subjects() == ["New order SO-000001 from Jane Doe (confirmed)", "Your order SO-000001 is confirmed"]
    confirmation = next(m for m in inbox.messages if m["to"] == ["jane@example.com"])["message"]
    assert confirmation["From"] == "Clay & Co <owner@clay.example>"
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    html = confirmation.get_body(preferencelist=("html",)).get_content()
    assert "2 x Blue mug (MUG-BLU)" in text and "£28.00" in text and "12 High St" in text
    assert "<strong>SO-000001</strong>" in html
    owner = next(m for m in inbox.messages if m["to"] == ["owner@clay.example"])["message"]
    assert "http://127.0.0.1:5000/orders/SO-000001" in owner.get_body(preferencelist=("plain",)).get_content()
    assert set(db.session.scalars(select(OutgoingEmail.status))) == {"sent"}
    from webapp.orders.models import OrderEvent

    told = db.session.scalars(select(OrderEvent.note).where(OrderEvent.kind == "email").order_by(OrderEvent.id)).all()
    assert sorted(told) == ["Email to jane@example.com: Your order SO-000001 is confirmed",
                            "Email to owner@clay.example: New order SO-000001 from Jane Doe (confirmed)"]


def test_shipping_notice_carries_the_tracking_number(mail_app, api_token, inbox, make_product):
    make_product("MUG-BLU", stock=5)
    client = mail_app.test_client()
    post(client, "/orders", order_body("MUG-BLU", 1), api_token)
    post(client, "/orders/SO-000001/transitions", {"to": "shipped", "carrier": "Royal Mail",
                                                   "tracking_number": "RM123456785GB"}, api_token)
    run_jobs()
    shipped = [m["message"] for m in inbox.wait_for(3) if "on its way" in m["message"]["Subject"]]
    assert len(shipped) == 1
    assert "Tracking number: RM123456785GB" in shipped[0].get_body(preferencelist=("plain",)).get_content()


def test_a_held_order_tells_the_owner_why_and_waits_to_confirm(mail_app, api_token, inbox, make_product):
    make_product("MUG-BLU", stock=1)
    client = mail_app.test_client()
    post(client, "/orders", order_body("MUG-BLU", 3), api_token)
    run_jobs()
    messages = inbox.wait_for(1)
    assert [m["to"] for m in messages] == [["owner@clay.example"]]
    assert "Not enough stock of MUG-BLU" in messages[0]["message"].get_body(preferencelist=("plain",)).get_content()


def test_running_the_send_job_twice_delivers_once(mail_app, api_token, inbox, make_product):
    make_product("MUG-BLU", stock=5)
    current_settings().email_owner_new_order = False
    db.session.commit()
    post(mail_app.test_client(), "/orders", order_body("MUG-BLU", 1), api_token)
    email_id = db.session.scalar(select(OutgoingEmail.id))
    assert send_email(email_id) == "sent"
    assert send_email(email_id).startswith("skipped")
    Queue("emails", connection=redis_connection()).enqueue(send_email, email_id)  # a stray duplicate job
    run_jobs()
    time.sleep(0.2)
    assert len(inbox.messages) == 1


def test_switched_off_messages_are_not_sent(mail_app, api_token, inbox, make_product):
    make_product("MUG-BLU", stock=5)
    settings = current_settings()
    settings.email_owner_new_order = settings.email_customer_confirmation = False
    db.session.commit()
    post(mail_app.test_client(), "/orders", order_body("MUG-BLU", 1), api_token)
    run_jobs()
    assert db.session.scalar(select(func.count(OutgoingEmail.id))) == 0 and inbox.messages == []


def test_a_failed_send_is_retried_and_shown_with_its_error(app, make_user, make_product, tmp_path, inbox):
    app.config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}?starttls=false", OUTBOX_DIR=str(tmp_path))
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=5)
    token = create_api_token(make_user(email="shop@example.com"), ["orders:write"])
    make_user(email="owner@example.com")
    db.session.commit()
    client = app.test_client()
    post(client, "/orders", order_body("MUG-BLU", 1), token)
    run_jobs()
    failed = db.session.scalars(select(OutgoingEmail)).one()
    db.session.refresh(failed)
    assert failed.status == "failed" and "ConnectionRefusedError" in failed.last_error
    client.post("/login", data={"email": "owner@example.com", "password": "a long test password"})
    page = client.get("/emails?status=failed").get_data(as_text=True)
    assert "ConnectionRefusedError" in page and "Send again" in page

    app.config["SMTP_URL"] = inbox.url  # the mail server is back
    assert client.post(f"/emails/{failed.id}/retry").status_code == 303
    run_jobs()
    assert [m["to"] for m in inbox.wait_for(1)] == [["jane@example.com"]]
    db.session.refresh(failed)
    assert failed.status == "sent" and failed.attempts == 2


def test_without_smtp_messages_are_written_as_eml_files(app, make_product, make_user, tmp_path):
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path / "outbox"))
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=5)
    token = create_api_token(make_user(email="shop@example.com"), ["orders:write"])
    db.session.commit()
    post(app.test_client(), "/orders", order_body("MUG-BLU", 1), token)
    run_jobs()
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "jane@example.com" and message["Subject"] == "Your order SO-000001 is confirmed"


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, to stop and start again."""
    port = free_port()

    def start():
        process = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL)
        client = Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return process
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    state = {"process": start(), "url": f"redis://127.0.0.1:{port}/0", "start": start}
    yield state
    state["process"].terminate()
    state["process"].wait(timeout=10)


def test_orders_taken_while_redis_is_down_get_their_emails_once_it_is_back(app, make_user, make_product,
                                                                          inbox, own_redis, tmp_path):
    app.config.update(SMTP_URL=inbox.url, REDIS_URL=own_redis["url"], OUTBOX_DIR=str(tmp_path))
    make_product("MUG-BLU", stock=100)
    token = create_api_token(make_user(email="shop@example.com"), ["orders:write"])
    db.session.commit()
    own_redis["process"].terminate()
    own_redis["process"].wait(timeout=10)

    client = app.test_client()
    for i in range(20):
        body = order_body("MUG-BLU", 1, customer={"name": f"Buyer {i}", "email": f"buyer{i}@example.com",
                                                  "address": {"line1": "1 Road", "city": "Leeds", "country": "GB"}})
        assert post(client, "/orders", body, token).status_code == 201
    db.session.rollback()
    assert db.session.scalar(select(func.count(PendingJob.id)).where(PendingJob.enqueued_at.is_(None))) == 20

    own_redis["process"] = own_redis["start"]()  # Redis is back
    assert dispatch_pending() == 20  # what the periodic dispatch job (or the next request) does
    assert dispatch_pending() == 0
    run_jobs(Redis.from_url(own_redis["url"]))
    run_jobs(Redis.from_url(own_redis["url"]))
    inbox.wait_for(20)
    time.sleep(0.2)
    assert sorted(m["to"][0] for m in inbox.messages) == sorted(f"buyer{i}@example.com" for i in range(20))
