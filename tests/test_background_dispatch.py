"""Handing work to RQ: nothing lost between the database and Redis, nothing done twice, and a real worker
process started the way the Procfile starts it."""
import os
import subprocess
import sys
import time

import pytest
from rq import Queue
from sqlalchemy import func, select, update

from tests.factories import order_in_status
from tests.test_emails import inbox, run_jobs  # noqa: F401
from webapp.background import dispatch
from webapp.background.dispatch import dispatch_pending
from webapp.background.models import PendingJob
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.invoices.issuing import issue_invoice
from webapp.invoices.models import Invoice
from worker import redis_connection
from worker.jobs.emails import send_email


def test_a_job_enqueued_but_not_marked_is_not_enqueued_again(app, make_product):
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)  # schedules the confirmation email
    assert dispatch_pending() == 1
    # A dispatcher that died after enqueueing, before marking the row:
    db.session.execute(update(PendingJob).values(enqueued_at=None))
    db.session.commit()
    assert dispatch_pending() == 1  # marked now...
    assert Queue("emails", connection=redis_connection()).count == 1  # ...but on RQ once
    assert dispatch_pending() == 0


def test_a_request_dispatches_only_its_own_work_and_survives_redis_errors(app, make_product, auth, client):
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=10)
    auth.login()
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.post("/orders/new", data={
        "customer_name": "Pat", "customer_email": "pat@example.com", "line1": "1 Road", "city": "Leeds",
        "country": "GB", "line_sku": "MUG-BLU", "line_qty": "1"})
    assert response.status_code == 303  # the order is stored and the answer is not an error
    waiting = db.session.scalars(select(PendingJob.job_id).where(PendingJob.enqueued_at.is_(None))).all()
    assert waiting == ["send-email-1"]


def test_a_send_that_fails_before_the_hand_off_is_marked_failed_and_retried_with_backoff(app, make_product):
    redis_connection().flushdb()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:notaport"
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    dispatch_pending()
    run_jobs()
    email = db.session.scalars(select(OutgoingEmail)).one()
    db.session.refresh(email)
    assert email.status == "failed" and "bad port" in email.last_error
    queue = Queue("emails", connection=redis_connection())
    assert queue.scheduled_job_registry.get_job_ids() == ["send-email-1"]  # RQ will try again later
    assert queue.fetch_job("send-email-1").retries_left == 3


def test_two_workers_sending_the_same_email_deliver_it_once(app, make_product, inbox):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    redis_connection().flushdb()
    app.config["SMTP_URL"] = inbox.url
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    email_id = db.session.scalar(select(OutgoingEmail.id))
    db.session.commit()  # end the test's own read before the workers write

    def send(_):
        with app.app_context():
            return send_email(email_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send, range(4)))
    assert outcomes.count("sent") == 1
    assert len(inbox.wait_for(1)) == 1


def test_a_pdf_that_cannot_be_made_says_so_and_stops_waiting(app, make_product, client, auth, monkeypatch):
    from webapp.invoices import issuing

    redis_connection().flushdb()
    make_product("MUG-BLU", stock=10)
    order = order_in_status("shipped", quantity=1)
    monkeypatch.setattr(issuing, "render_pdf", lambda html: (_ for _ in ()).throw(RuntimeError("out of paper")))
    from worker.jobs.invoices import render_invoice_pdf

    invoice_id = db.session.scalar(select(Invoice.id))
    try:
        render_invoice_pdf(invoice_id)  # called directly: no RQ retries left, so this is the last attempt
    except RuntimeError:
        pass
    auth.login()
    panel = client.get(f"/orders/{order.number}/documents", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "the PDF failed: RuntimeError: out of paper" in panel and "hx-trigger" not in panel


def test_the_procfile_worker_runs_jobs_in_its_own_process_with_job_ids_in_its_log(app, database_url, redis_server):
    queue = Queue("default", connection=redis_connection())
    job = queue.enqueue("worker.jobs.alerts.scan_stock_and_deadlines", job_id="cli-scan")
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server["url"], "SECRET_KEY": "test"}
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "-w", "worker.app.ShopWorker", "--burst",
         "--url", redis_server["url"], "default"],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert job.get_status(refresh=True) == "finished"
    assert "[job cli-scan] worker.jobs.alerts: alerts raised" in result.stderr + result.stdout


def test_old_dispatched_jobs_are_pruned_but_waiting_ones_kept(app, make_product):
    from datetime import timedelta

    from webapp.background.dispatch import prune_dispatched
    from webapp.timekeeping import utcnow

    redis_connection().flushdb()
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    order_in_status("confirmed", quantity=1)
    dispatch_pending(["send-email-1"])
    db.session.execute(update(PendingJob).where(PendingJob.job_id == "send-email-1")
                       .values(enqueued_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    assert prune_dispatched() == 1
    assert db.session.scalars(select(PendingJob.job_id)).all() == ["send-email-2"]


def test_an_email_stuck_in_sending_can_be_marked_failed_by_the_owner(app, make_product, client, auth):
    from datetime import timedelta

    from webapp.timekeeping import utcnow

    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    db.session.execute(update(OutgoingEmail).values(status="sending", created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    auth.login()
    assert "Mark failed" in client.get("/emails").get_data(as_text=True)
    client.post("/emails/1/give-up")
    email = db.session.scalars(select(OutgoingEmail)).one()
    db.session.refresh(email)
    assert email.status == "failed" and "may or may not have gone out" in email.last_error
    assert "Only an email stuck" in client.post("/emails/1/give-up", follow_redirects=True).get_data(as_text=True)


@pytest.mark.app_config(DISPATCH_MARK_SECONDS=3600)
def test_a_busy_web_process_marks_its_jobs_later_and_the_periodic_dispatch_does_not_double_them(
        app, make_product, auth, client):
    redis_connection().flushdb()
    make_product("MUG-BLU", stock=10)
    auth.login()
    dispatch.mark_enqueued_now()  # start the interval here: the next requests defer their marking
    for name in ("Pat", "Sam"):
        response = client.post("/orders/new", data={
            "customer_name": name, "customer_email": f"{name.lower()}@example.com", "line1": "1 Road",
            "city": "Leeds", "country": "GB", "line_sku": "MUG-BLU", "line_qty": "1"})
        assert response.status_code == 303
    emails = Queue("emails", connection=redis_connection())
    assert emails.count == 2  # handed to RQ at once...
    unmarked = db.session.scalars(select(PendingJob.job_id).where(PendingJob.enqueued_at.is_(None))).all()
    assert sorted(unmarked) == ["send-email-1", "send-email-2"]  # ...marked later
    assert dispatch_pending() == 2  # the periodic dispatch finds them on RQ and only marks them
    assert emails.count == 2
    assert db.session.scalar(select(func.count()).where(PendingJob.enqueued_at.is_(None))) == 0


def test_the_procfile_worker_renders_pdfs_in_its_own_process_one_after_another(
        app, database_url, redis_server, make_product):
    """PDFs are rendered in the worker itself (no fork per job): two in a row both come out, with the worker's pid,
    and a render that fails only fails its own job."""
    make_product("MUG-BLU", stock=10)
    orders = [order_in_status("confirmed", quantity=1) for _ in range(2)]
    invoices = [issue_invoice(order, actor="test") for order in orders]
    db.session.flush()
    invoice_ids = [invoice.id for invoice in invoices]
    db.session.commit()  # and no transaction left open: on SQLite it would hold the write lock the worker needs
    redis_connection().flushdb()
    queue = Queue("documents", connection=redis_connection())
    first = queue.enqueue("worker.jobs.invoices.render_invoice_pdf", invoice_ids[0])
    broken = queue.enqueue("worker.jobs.invoices.render_invoice_pdf", invoice_ids[1], "an argument too many")
    jobs = [first, queue.enqueue("worker.jobs.invoices.render_invoice_pdf", invoice_ids[1])]
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server["url"], "SECRET_KEY": "test"}
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "-w", "worker.app.ShopWorker", "--burst",
         "--url", redis_server["url"], "documents"],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [job.get_status(refresh=True) for job in jobs] == ["finished", "finished"]
    assert broken.get_status(refresh=True) == "failed"
    for invoice_id in invoice_ids:
        assert db.session.get(Invoice, invoice_id).pdf.startswith(b"%PDF")
    workers = {job.worker_name for job in jobs}
    assert len(workers) == 1  # the same worker, which ran them itself


def test_jobs_redis_lost_are_handed_over_again_and_run_once(app, make_product, inbox):  # noqa: F811
    from webapp.background.dispatch import redispatch_lost_jobs

    redis_connection().flushdb()
    app.config["SMTP_URL"] = inbox.url
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    order_in_status("confirmed", quantity=1)
    assert dispatch_pending() == 2
    run_jobs()  # the first email is sent ...
    order_in_status("confirmed", quantity=1)
    assert dispatch_pending() == 1
    redis_connection().flushdb()  # ... then Redis restarts empty, losing the third one's job
    assert redispatch_lost_jobs() == 3
    assert dispatch_pending() == 3
    run_jobs()
    assert redispatch_lost_jobs() == 0
    time.sleep(0.3)
    customers = sorted(db.session.scalars(select(OutgoingEmail.to_address)))
    assert len(customers) == 3 and sorted(m["to"][0] for m in inbox.wait_for(3)) == customers


@pytest.mark.parametrize("handover_began, sent", [(False, True), (True, False)])
def test_an_email_left_by_a_dead_sender_is_taken_over_only_if_it_had_not_begun_sending(app, make_product, inbox,  # noqa: F811
                                                                                      handover_began, sent):
    from webapp.emails.outbox import send_outgoing_email
    from webapp.timekeeping import utcnow

    redis_connection().flushdb()
    app.config["SMTP_URL"] = inbox.url
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed", quantity=1)
    # A worker claimed it, then died (its execution is not running in RQ).
    db.session.execute(update(OutgoingEmail).values(status="sending", attempts=1, claimed_by="send-email-1:dead",
                                                    handover_started_at=utcnow() if handover_began else None))
    db.session.commit()
    outcome = send_outgoing_email(1, sender="send-email-1:retry")
    assert outcome == ("sent" if sent else "skipped: already sent or being sent")
    time.sleep(0.3)
    assert len(inbox.messages) == (1 if sent else 0)
    # A direct call (no RQ execution) never takes over.
    assert send_outgoing_email(1) == "skipped: already sent or being sent"
