"""Customer feedback: the email after delivery, its signed link to a public page, and the rating on the order."""
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from tests.factories import order_in_status
from tests.test_emails import inbox, mail_app, run_jobs  # noqa: F401 - the SMTP fixture and the in-process worker
from webapp.background.dispatch import dispatch_pending
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.feedback.links import LINK_DAYS, feedback_token
from webapp.feedback.models import OrderFeedback
from webapp.orders.models import OrderEvent
from webapp.settings.models import current_settings


def feedback_events(order) -> list[str]:
    return list(db.session.scalars(select(OrderEvent.note).where(OrderEvent.order_id == order.id,
                                                                 OrderEvent.kind == "feedback")
                                   .order_by(OrderEvent.id)))


def stored(order) -> OrderFeedback | None:
    db.session.expire_all()
    return db.session.scalar(select(OrderFeedback).where(OrderFeedback.order_id == order.id))


@pytest.fixture
def delivered(app, make_product):
    make_product("MUG-BLU", name="Blue mug", stock=20)
    return order_in_status("delivered")


@pytest.fixture
def stranger(app):
    """A browser with no session: the customer following the link from their email."""
    return app.test_client()


def test_the_email_after_delivery_links_to_a_page_that_stores_the_rating(mail_app, inbox, make_product,  # noqa: F811
                                                                          stranger, client, auth):
    make_product("MUG-BLU", name="Blue mug", stock=5)
    order = order_in_status("delivered")
    dispatch_pending()
    run_jobs()
    asked = [m for m in inbox.wait_for(4) if m["message"]["Subject"] == f"How was your order {order.number}?"]
    assert len(asked) == 1 and asked[0]["to"] == [order.customer.email]
    text = asked[0]["message"].get_body(preferencelist=("plain",)).get_content()
    html = asked[0]["message"].get_body(preferencelist=("html",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:5000(/feedback/\S+)", text).group(1)
    assert f'href="http://127.0.0.1:5000{link}"' in html and f"works for {LINK_DAYS} days" in text

    page = stranger.get(link)  # no sign-in
    assert page.status_code == 200
    assert order.number in page.get_data(as_text=True) and "Blue mug" in page.get_data(as_text=True)
    sent = stranger.post(link, data={"rating": "4", "comment": "Lovely glaze, well packed."})
    assert sent.status_code == 303 and sent.headers["Location"] == link
    assert "Thank you" in stranger.get(link).get_data(as_text=True)
    feedback = stored(order)
    assert (feedback.rating, feedback.comment) == (4, "Lovely glaze, well packed.")
    assert feedback_events(order) == ["Customer rated 4/5: “Lovely glaze, well packed.”"]

    auth.login()
    detail = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Customer feedback" in detail and "<strong>4/5</strong>" in detail and "★★★★☆" in detail
    assert "Customer rated 4/5" in detail and "Lovely glaze, well packed." in detail
    told = db.session.scalar(select(OrderEvent.note).where(OrderEvent.kind == "email",
                                                          OrderEvent.note.contains("How was your order")))
    assert told == f"Email to {order.customer.email}: How was your order {order.number}?"


def test_no_feedback_email_when_switched_off(mail_app, inbox, make_product):  # noqa: F811
    current_settings().email_customer_feedback = False
    db.session.commit()
    make_product("MUG-BLU", stock=5)
    order_in_status("delivered")
    dispatch_pending()
    run_jobs()
    assert db.session.scalar(select(func.count(OutgoingEmail.id)).where(OutgoingEmail.kind == "feedback")) == 0
    assert db.session.scalar(select(func.count(OutgoingEmail.id)).where(OutgoingEmail.kind == "shipped")) == 1
    assert not any("How was your order" in m["message"]["Subject"] for m in inbox.messages)


def test_only_delivery_asks_and_only_once(app, make_product):
    make_product("MUG-BLU", stock=20)
    order_in_status("shipped")
    order_in_status("returned")  # delivered on the way: asked once, not again when returned
    assert db.session.scalars(select(OutgoingEmail.dedupe_key).where(OutgoingEmail.kind == "feedback")).all() \
        == ["feedback:SO-000002"]


def test_the_switch_is_on_the_settings_page(client, auth):
    auth.login()
    assert 'name="email_customer_feedback" checked' in client.get("/settings").get_data(as_text=True)
    form = {"shop_name": "Clay & Co", "currency": "GBP", "price_tolerance_percent": "10",
            "review_total_threshold": "1000", "duplicate_window_minutes": "60", "express_window_days": "2"}
    assert client.post("/settings", data=form).status_code == 303
    db.session.expire_all()
    assert current_settings().email_customer_feedback is False


def test_a_second_visit_shows_and_changes_the_rating(delivered, stranger):
    link = f"/feedback/{feedback_token(delivered)}"
    stranger.post(link, data={"rating": "4", "comment": "Nice"})
    again = stranger.get(link).get_data(as_text=True)
    assert "You rated this order 4/5" in again and re.search(r'value="4" required\s+checked', again) and "Nice" in again
    stranger.post(link, data={"rating": "2", "comment": ""})
    assert db.session.scalar(select(func.count(OrderFeedback.id))) == 1
    assert (stored(delivered).rating, stored(delivered).comment) == (2, "")
    assert feedback_events(delivered) == ["Customer rated 4/5: “Nice”",
                                          "Customer changed their rating to 2/5 (was 4/5)"]


def _tampered(token: str) -> str:
    payload, signature = token.rsplit(".", 1)
    return f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize("make_link", [
    pytest.param(lambda token: _tampered(token), id="signature changed"),
    pytest.param(lambda token: token[:-6], id="cut short"),
    pytest.param(lambda token: "not-a-token", id="made up"),
    pytest.param(lambda token: URLSafeTimedSerializer("test-secret", salt="other").dumps({"order": "SO-000001"}),
                 id="same key, other salt"),
    pytest.param(lambda token: URLSafeTimedSerializer("guess", salt="solo-oms.order-feedback").dumps(
        {"order": "SO-000001"}), id="other key"),
])
def test_a_bad_link_gets_a_friendly_404(delivered, stranger, make_link):
    response = stranger.get(f"/feedback/{make_link(feedback_token(delivered))}")
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)
    assert "/board" not in response.get_data(as_text=True)  # no way into the shop's pages for a customer
    assert stranger.post(f"/feedback/{make_link(feedback_token(delivered))}", data={"rating": "5"}).status_code == 404
    assert stored(delivered) is None


def test_an_expired_link_says_so(delivered, stranger, monkeypatch):
    with monkeypatch.context() as past:
        past.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - (LINK_DAYS + 1) * 86400)
        old = feedback_token(delivered)
    response = stranger.post(f"/feedback/{old}", data={"rating": "5"})
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)
    assert stored(delivered) is None
    with monkeypatch.context() as recent:
        recent.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - (LINK_DAYS - 1) * 86400)
        still_valid = feedback_token(delivered)
    assert stranger.get(f"/feedback/{still_valid}").status_code == 200


def test_a_link_for_an_order_not_delivered_is_refused(app, make_product, stranger):
    make_product("MUG-BLU", stock=5)
    response = stranger.get(f"/feedback/{feedback_token(order_in_status('shipped'))}")
    assert response.status_code == 404 and "no delivered order" in response.get_data(as_text=True)


@pytest.mark.parametrize("form, field_error", [
    ({"comment": "no rating"}, "Rating is required"),
    ({"rating": ""}, "Rating is required"),
    ({"rating": "0"}, "Rating must be at least 1"),
    ({"rating": "6"}, "Rating must be at most 5"),
    ({"rating": "-1"}, "Rating must be at least 1"),
    ({"rating": "four"}, "Rating must be a whole number"),
    ({"rating": "4.5"}, "Rating must be a whole number"),
    ({"rating": "99999999999999999999"}, "Rating must be a whole number"),
    ({"rating": "5", "comment": "x" * 2001}, "Comment must be at most 2000 characters"),
    ({"rating": "5", "comment": "ding\x07dong"}, "Comment must not contain control characters"),
    ({"rating": "5", "comment": "\x1b[31mred"}, "Comment must not contain control characters"),
    ({"rating": "5", "extra": "ignored", "comment": "x" * 2001}, "Comment must be at most 2000 characters"),
])
def test_bad_input_shows_the_form_again_naming_the_field(delivered, stranger, form, field_error):
    response = stranger.post(f"/feedback/{feedback_token(delivered)}", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and field_error in html
    assert '<form method="post"' in html
    if form.get("comment") and "\x1b" not in form["comment"] and "\x07" not in form["comment"]:
        assert form["comment"] in html  # what was typed is kept
    assert stored(delivered) is None and feedback_events(delivered) == []


def test_a_nul_character_is_refused_naming_the_field(delivered, stranger):
    response = stranger.post(f"/feedback/{feedback_token(delivered)}", data={"rating": "5", "comment": "a\x00b"})
    assert response.status_code == 400 and "comment" in response.get_data(as_text=True)
    assert stored(delivered) is None


def test_a_comment_of_exactly_the_limit_with_line_breaks_is_kept(delivered, stranger):
    comment = ("Line one\r\nLine two\t" + "x" * 2000)[:2000]
    assert stranger.post(f"/feedback/{feedback_token(delivered)}",
                         data={"rating": "1", "comment": comment}).status_code == 303
    assert stored(delivered).comment == comment.strip()


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_form_is_csrf_protected(delivered, stranger):
    link = f"/feedback/{feedback_token(delivered)}"
    assert stranger.post(link, data={"rating": "5"}).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', stranger.get(link).get_data(as_text=True)).group(1)
    assert stranger.post(link, data={"rating": "5", "csrf_token": token}).status_code == 303
    assert stored(delivered).rating == 5


@pytest.mark.app_config(RATELIMIT_ENABLED=True, FEEDBACK_RATE_LIMIT="3 per minute")
def test_the_page_is_rate_limited(delivered, stranger):
    link = f"/feedback/{feedback_token(delivered)}"
    for _ in range(3):
        assert stranger.post(link, data={"rating": "9"}).status_code == 422
    assert stranger.post(link, data={"rating": "5"}).status_code == 429
    assert stored(delivered) is None
