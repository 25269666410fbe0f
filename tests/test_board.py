"""The live board: columns, cards, filters, bounded columns, conditional polling, and one-click actions."""
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.factories import order_in_status
from webapp.extensions import db
from webapp.timekeeping import utcnow

HTMX = {"HX-Request": "true"}


def cards(html: str) -> list[str]:
    return re.findall(r'id="card-(SO-\d+)"', html)


def column_html(html: str, key: str) -> str:
    match = re.search(rf'data-column="{key}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


@contextmanager
def count_queries():
    queries = []

    def record(conn, cursor, statement, *args):
        queries.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield queries
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def shop(app, auth, make_product):
    make_product("MUG-BLU", stock=100)
    auth.login()
    return {status: order_in_status(status) for status in
            ("on_hold", "confirmed", "processing", "shipped", "delivered", "cancelled")}


def test_orders_sit_in_the_column_for_their_status(client, shop):
    html = client.get("/board").get_data(as_text=True)
    assert cards(column_html(html, "attention")) == [shop["on_hold"].number]
    assert cards(column_html(html, "confirmed")) == [shop["confirmed"].number]
    assert cards(column_html(html, "processing")) == [shop["processing"].number]
    assert cards(column_html(html, "shipped")) == [shop["shipped"].number]
    for gone in ("delivered", "cancelled"):
        assert shop[gone].number not in html


def test_card_shows_what_the_owner_needs(client, shop):
    html = client.get("/board").get_data(as_text=True)
    card = html[html.index(f'id="card-{shop["on_hold"].number}"'):]
    card = card[:card.index("</article>")]
    assert shop["on_hold"].customer.name in card and "2 items" in card and "£28.00" in card
    assert "Shipping address is missing" in card
    assert "Confirm" in card and "Cancel" in card


def test_shipped_column_shows_only_today(client, shop):
    shop["shipped"].shipped_at = utcnow() - timedelta(days=2)
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert cards(column_html(html, "shipped")) == []


def test_page_when_opened_directly_fragment_for_htmx(client, shop):
    page = client.get("/board")
    fragment = client.get("/board", headers=HTMX)
    assert "<html" in page.get_data(as_text=True) and "topbar" in page.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="board"')
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    restore = client.get("/board", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_unchanged_poll_answers_304_and_a_change_answers_200(client, shop):
    for _ in range(2):  # the tag also turns over each minute (card ages); at a minute boundary, ask again
        etag = client.get("/board", headers=HTMX).headers["ETag"]
        again = client.get("/board", headers={**HTMX, "If-None-Match": etag})
        if again.status_code == 304:
            break
    assert again.status_code == 304 and again.data == b""
    client.post(f"/orders/{shop['confirmed'].number}/transitions", data={"to": "processing"})
    changed = client.get("/board", headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_filters_narrow_the_cards(client, shop, make_product):
    make_product("TPT-6CP", stock=10)
    teapot = order_in_status("confirmed", sku="TPT-6CP", quantity=1)
    assert cards(client.get("/board?q=tpt-6cp").get_data(as_text=True)) == [teapot.number]
    assert cards(client.get(f"/board?q={teapot.number}").get_data(as_text=True)) == [teapot.number]
    email = shop["processing"].customer.email
    assert cards(client.get(f"/board?q={email.upper()}").get_data(as_text=True)) == [shop["processing"].number]
    assert cards(client.get("/board?column=processing").get_data(as_text=True)) == [shop["processing"].number]
    assert cards(client.get("/board?channel=shopify").get_data(as_text=True)) == []
    assert len(cards(client.get("/board?channel=web").get_data(as_text=True))) == 5
    assert cards(client.get("/board?priority=express").get_data(as_text=True)) == []


@pytest.mark.parametrize("query, message", [
    ("channel=fax", "&#39;fax&#39; is not a channel"),
    ("priority=urgent", "&#39;urgent&#39; is not a priority"),
    ("column=lost", "There is no board column &#39;lost&#39;"),
    ("tab=lost", "There is no board tab &#39;lost&#39;"),
])
def test_bad_filters_are_named_not_500(client, shop, query, message):
    response = client.get(f"/board?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)




@pytest.mark.app_config(BOARD_CARDS_PER_COLUMN=3)
def test_columns_are_bounded_with_a_more_link(client, auth, make_product):
    make_product("MUG-BLU", stock=100)
    auth.login()
    numbers = [order_in_status("confirmed", quantity=1).number for _ in range(5)]
    html = client.get("/board").get_data(as_text=True)
    column = column_html(html, "confirmed")
    assert cards(column) == numbers[:3]
    assert '<span class="count">5</span>' in column
    more = re.search(r'href="(/board/columns/confirmed[^"]*)"', column).group(1).replace("&amp;", "&")
    rest = client.get(more, headers=HTMX).get_data(as_text=True)
    assert cards(rest) == numbers[3:]
    assert "more</a>" not in rest
    assert cards(client.get(more).get_data(as_text=True)) == numbers[3:]  # a full page when opened directly


def test_board_query_count_does_not_grow_with_orders(client, shop):
    client.get("/board")  # the ship-time model is read once, then kept (tests/test_ship_dates.py counts it)
    db.session.commit()
    with count_queries() as few:
        client.get("/board")
    for _ in range(15):
        order_in_status("confirmed", quantity=1)
    with count_queries() as many:
        client.get("/board")
    assert len(many) == len(few)


def test_one_click_action_updates_the_board_in_place(client, shop):
    number = shop["confirmed"].number
    response = client.post(f"/orders/{number}/transitions", data={"to": "processing", "next": "/board?tab=processing"},
                           headers=HTMX, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="board"')
    assert number in cards(column_html(html, "processing"))
    assert "is now packing" in html or "is now processing" in html


def test_refused_action_says_why_in_the_message_area(client, shop):
    number = shop["on_hold"].number
    response = client.post(f"/orders/{number}/transitions", data={"to": "shipped", "next": "/board"}, headers=HTMX)
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#messages"
    assert "cannot become shipped" in response.get_data(as_text=True)


def test_viewer_sees_the_board_without_actions(client, make_user, make_product, app):
    make_product("MUG-BLU", stock=10)
    order_in_status("confirmed")
    make_user(email="viewer@example.com", role="viewer")
    client.post("/login", data={"email": "viewer@example.com", "password": "a long test password"})
    html = client.get("/board").get_data(as_text=True)
    assert len(cards(html)) == 1 and "Start packing" not in html


def test_actions_work_on_a_column_opened_as_a_page(client, shop):
    html = client.get("/board/columns/confirmed").get_data(as_text=True)
    assert '<section id="board"' in html and 'hx-target="#board"' in html


def test_express_orders_come_first_then_the_oldest(client, auth, make_product):
    from webapp.orders.models import PRIORITIES

    make_product("MUG-BLU", stock=100)
    auth.login()
    older = order_in_status("confirmed", quantity=1)
    newer = order_in_status("confirmed", quantity=1)
    express = order_in_status("confirmed", quantity=1)
    express.priority = "express"
    db.session.commit()
    html = client.get("/board").get_data(as_text=True)
    assert cards(column_html(html, "confirmed")) == [express.number, older.number, newer.number]
    # The board's index relies on this alphabetical order of the priorities.
    assert sorted(PRIORITIES) == ["express", "standard"]



@contextmanager
def own_request_globals(app):
    """Requests get their own g, as in a server: under the test's app context they would share one, and the
    user that Flask-Login loaded for one browser would answer for the next."""
    with app.app_context():
        yield


def signed_in(app, email="owner@example.com", password="a long test password"):
    """Another browser: its own session, signed in through the form (with its CSRF token when checked)."""
    browser = app.test_client()
    with own_request_globals(app):
        page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    with own_request_globals(app):
        response = browser.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token.group(1) if token else ""})
    assert response.status_code == 302, response.data
    return browser


def board_fragment(app, browser):
    with own_request_globals(app):
        return browser.get("/board", headers=HTMX)


def card_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', html))


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_fragment_served_again_carries_each_sessions_own_csrf_token(app, make_user, make_product):
    make_product("MUG-BLU", stock=100)
    make_user()
    number = order_in_status("confirmed").number
    db.session.commit()  # the test's own session lets go of SQLite before the browsers write
    first, second = signed_in(app), signed_in(app)
    first_html = board_fragment(app, first)
    second_html = board_fragment(app, second)  # the same version: the fragment kept from the first
    assert first_html.headers["ETag"] == second_html.headers["ETag"]
    first_tokens = card_tokens(first_html.get_data(as_text=True))
    second_tokens = card_tokens(second_html.get_data(as_text=True))
    assert len(first_tokens) == len(second_tokens) == 1 and first_tokens != second_tokens
    assert "board-csrf-token" not in second_html.get_data(as_text=True)
    # The second browser's card form works with the token it was given (a plain form post, no header).
    with own_request_globals(app):
        moved = second.post(f"/orders/{number}/transitions",
                            data={"to": "processing", "next": "/board", "csrf_token": second_tokens.pop()})
    assert moved.status_code == 303  # a bad token would be a 400
    html = board_fragment(app, first).get_data(as_text=True)
    assert cards(column_html(html, "processing")) == [number]


def test_a_fragment_served_again_follows_the_role_and_brings_pending_messages(app, make_user, make_product):
    make_product("MUG-BLU", stock=100)
    make_user()
    make_user(email="viewer@example.com", role="viewer")
    order_in_status("confirmed")
    db.session.commit()
    owner, viewer = signed_in(app), signed_in(app, email="viewer@example.com")
    owner_html = board_fragment(app, owner).get_data(as_text=True)
    viewer_html = board_fragment(app, viewer).get_data(as_text=True)
    assert "Start packing" in owner_html and cards(viewer_html) == cards(owner_html)
    assert "Start packing" not in viewer_html
    with owner.session_transaction() as session:
        session["_flashes"] = [("success", "Packing slips printed.")]
    again = board_fragment(app, owner).get_data(as_text=True)
    assert cards(again) == cards(owner_html) and "Packing slips printed." in again
