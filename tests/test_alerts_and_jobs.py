"""Alerts raised once per condition until it clears, their emails, the digest, and the jobs page."""
from datetime import timedelta

from rq import Queue
from sqlalchemy import select

from tests.factories import order_in_status
from tests.test_emails import inbox, run_jobs  # noqa: F401 - the SMTP fixture and the in-process worker
from webapp.alerts.models import Alert
from webapp.catalog.stock import receive_stock
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today
from worker import redis_connection
from worker.jobs.alerts import daily_digest, scan_failed_jobs, scan_stock_and_deadlines


def failing_job():
    raise RuntimeError("the printer is on fire")


def emails(kind):
    return db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == kind)).all()


def setup_shop():
    redis_connection().flushdb()
    settings = current_settings()
    settings.shop_email = "owner@clay.example"
    settings.email_supplier_purchase_request = True
    db.session.commit()


def test_low_stock_is_raised_once_and_cleared_when_restocked(app, make_product, inbox, client, auth):  # noqa: F811
    app.config.update(SMTP_URL=inbox.url)
    setup_shop()
    product = make_product("JUG-MLK", name="Milk jug", stock=3, reorder_point=5)
    product.supplier_email = "orders@clay-supplies.example"
    db.session.commit()
    make_product("MUG-BLU", stock=50, reorder_point=5)

    assert scan_stock_and_deadlines()["low_stock"] == 1
    assert scan_stock_and_deadlines()["low_stock"] == 0  # still low: no second alert, no second email
    open_alerts = db.session.scalars(select(Alert).where(Alert.cleared_at.is_(None))).all()
    assert [(a.kind, a.subject) for a in open_alerts] == [("low_stock", "product:JUG-MLK")]
    run_jobs()
    subjects = sorted(m["message"]["Subject"] for m in inbox.wait_for(2))
    assert subjects == ["Low stock: Milk jug (3 left)", "Purchase request: Milk jug (JUG-MLK)"]
    request = next(m for m in inbox.messages if m["to"] == ["orders@clay-supplies.example"])["message"]
    assert "7 x Milk jug (JUG-MLK)" in request.get_body(preferencelist=("plain",)).get_content()

    auth.login()
    assert '<span class="count alert-count" aria-label="1 open">1</span>' in client.get("/alerts/badge").get_data(
        as_text=True)
    assert "Milk jug (JUG-MLK) is low" in client.get("/alerts").get_data(as_text=True)

    receive_stock(product, 20, reason="delivery", actor="owner")
    db.session.commit()
    scan_stock_and_deadlines()
    db.session.refresh(open_alerts[0])
    assert open_alerts[0].cleared_at is not None
    assert "alert-count" not in client.get("/alerts/badge").get_data(as_text=True)
    assert len(emails("low_stock")) == 1


def test_overdue_orders_are_flagged_and_cleared_when_shipped(app, make_product):
    setup_shop()
    make_product("MUG-BLU", stock=50)
    late = order_in_status("confirmed", quantity=1)
    late.due_date = shop_today() - timedelta(days=2)
    on_time = order_in_status("confirmed", quantity=1)
    on_time.due_date = shop_today() + timedelta(days=2)
    db.session.commit()
    soon = order_in_status("confirmed", quantity=1)
    soon.due_date = shop_today() + timedelta(days=1)
    packing = order_in_status("processing", quantity=1)
    packing.due_date = shop_today()
    db.session.commit()
    # No shipping history yet: two days to ship are assumed (tests/test_ship_dates.py has the model's rules).
    assert scan_stock_and_deadlines()["overdue"] == 3
    risky = db.session.scalars(select(Alert).where(Alert.kind == "at_risk").order_by(Alert.subject)).all()
    assert [alert.subject for alert in risky] == [f"order:{soon.number}", f"order:{packing.number}"]
    assert "but ships ~" in risky[0].message and "(still confirmed)" in risky[0].message
    alert = db.session.scalars(select(Alert).where(Alert.kind == "overdue")).one()
    assert alert.subject == f"order:{late.number}" and "still confirmed" in alert.message
    assert len(emails("overdue")) == 1
    from webapp.orders.workflow import transition

    transition(late, "shipped", actor="owner", carrier="DPD")
    db.session.commit()
    scan_stock_and_deadlines()
    db.session.refresh(alert)
    assert alert.cleared_at is not None


def test_a_failed_job_raises_an_alert_and_can_be_retried_from_the_jobs_page(app, client, auth):
    setup_shop()
    queue = Queue("documents", connection=redis_connection())
    job = queue.enqueue(failing_job, job_id="print-labels-1")
    run_jobs()
    assert scan_failed_jobs() == 1
    assert scan_failed_jobs() == 0
    alert = db.session.scalars(select(Alert)).one()
    assert alert.subject == "job:print-labels-1" and "the printer is on fire" in alert.message

    auth.login()
    page = client.get("/jobs").get_data(as_text=True)
    assert "print-labels-1" in page and "RuntimeError: the printer is on fire" in page
    assert client.post("/jobs/print-labels-1/retry").status_code == 303
    assert job.id in queue.get_job_ids()
    scan_failed_jobs()
    db.session.refresh(alert)
    assert alert.cleared_at is not None
    assert "no failed job" in client.post("/jobs/nope/retry", follow_redirects=True).get_data(as_text=True)


def test_only_the_owner_sees_the_jobs_page(client, make_user):
    make_user(email="helper@example.com", role="staff")
    client.post("/login", data={"email": "helper@example.com", "password": "a long test password"})
    assert client.get("/jobs").status_code == 403


def test_the_daily_digest_sums_up_the_day_once(app, make_product, inbox):  # noqa: F811
    app.config.update(SMTP_URL=inbox.url)
    setup_shop()
    make_product("MUG-BLU", stock=50)
    make_product("JUG-MLK", name="Milk jug", stock=1, reorder_point=3)
    order_in_status("on_hold", quantity=1)
    order_in_status("confirmed", quantity=1)
    due = order_in_status("processing", quantity=1)
    due.due_date = shop_today()
    db.session.commit()
    from datetime import datetime, time

    from webapp.alerts.digest import send_daily_digest
    from webapp.background.dispatch import dispatch_pending

    early = datetime.combine(shop_today(), time(5, 30))
    assert send_daily_digest(now=early) is False  # before 06:00 shop time
    assert send_daily_digest(now=early.replace(hour=7)) is True
    assert send_daily_digest(now=early.replace(hour=8)) is False  # once a day
    assert daily_digest() is False  # the hourly job: already sent today
    db.session.commit()
    dispatch_pending()
    run_jobs()
    inbox.wait_for(4)
    digests = [m["message"] for m in inbox.messages if m["message"]["Subject"].startswith("Today at")]
    assert len(digests) == 1
    digest = digests[0].get_body(preferencelist=("plain",)).get_content()
    expected = ("Needs attention: 1", "To pack: 1", "Packing: 1", f"{due.number} for",
                "Milk jug (JUG-MLK): 1 available")
    for line in expected:
        assert line in digest, line


def test_overlapping_scans_do_not_raise_an_alert_twice(app, make_product):
    setup_shop()
    make_product("JUG-MLK", stock=1, reorder_point=5)
    lock = redis_connection().lock("solo-oms:lock:scan-stock-and-deadlines", timeout=60)
    assert lock.acquire(blocking=False)  # another worker is scanning right now
    try:
        assert scan_stock_and_deadlines() == {"skipped": "another scan is running"}
    finally:
        lock.release()
    assert scan_stock_and_deadlines()["low_stock"] == 1
    assert len(db.session.scalars(select(Alert)).all()) == 1
