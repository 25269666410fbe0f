"""The activity page: owner and viewer read it, staff do not; filters, paging, HTMX fragment and CSV."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert

from webapp.activity.models import ActivityEntry
from webapp.extensions import db
from webapp.timekeeping import utcnow


def add_entries(*rows: dict) -> None:
    """Entries as the recorder writes them (straight rows, so a test controls the time and the actor)."""
    defaults = {"at": utcnow(), "actor": "owner@example.com", "actor_user_id": None, "kind": "order",
                "action": "changed", "thing_id": None, "thing_ref": "", "changes": {}, "note": ""}
    db.session.execute(insert(ActivityEntry), [defaults | row for row in rows])
    db.session.commit()


@pytest.fixture
def shop_log(app, make_product):
    make_product("MUG-BLU", stock=3)  # writes real entries: product created, stock received
    now = utcnow()
    add_entries(
        {"at": now - timedelta(days=10), "thing_ref": "SO-000007", "changes": {"status": ["confirmed", "shipped"]}},
        {"at": now - timedelta(days=1), "actor": "helper@example.com", "kind": "customer", "action": "created",
         "thing_id": 4, "thing_ref": "Ann <ann@example.com>", "changes": {"name": [None, "Ann"]}},
        {"at": now, "actor": "cli", "kind": "token", "action": "created", "thing_ref": "soms_abc…"},
    )


@pytest.mark.parametrize("role, expected", [("owner", 200), ("viewer", 200), ("staff", 403)])
def test_owner_and_viewer_read_the_log_staff_do_not(client, auth, role, expected):
    auth.login(email=f"{role}@example.com", role=role)
    assert client.get("/activity").status_code == expected
    assert client.get("/activity.csv").status_code == expected


def test_the_log_needs_a_sign_in(client, app):
    assert client.get("/activity").status_code == 302
    assert client.get("/activity", headers={"HX-Request": "true"}).status_code == 401


def test_newest_first_with_changes_old_to_new_and_links(client, auth, shop_log):
    auth.login()
    page = client.get("/activity").get_data(as_text=True)
    assert page.index("soms_abc") < page.index("ann@example.com") < page.index("SO-000007")
    assert '<del>confirmed</del> → <ins>shipped</ins>' in page
    assert 'href="/orders/SO-000007"' in page
    assert 'href="/customers/4"' in page
    assert 'href="/products/MUG-BLU"' in page  # the stock movement links to its product


@pytest.mark.parametrize("query, shown, hidden", [
    ({"kind": "customer"}, ["ann@example.com"], ["SO-000007", "soms_abc"]),
    ({"who": "cli"}, ["soms_abc"], ["SO-000007", "ann@example.com"]),
    ({"q": "so-0000"}, ["SO-000007"], ["ann@example.com", "soms_abc"]),
    ({"q": "100%_"}, [], ["SO-000007", "ann@example.com", "soms_abc"]),  # wildcards are searched as text
    ({"from": (utcnow() - timedelta(days=12)).date().isoformat(),
      "to": (utcnow() - timedelta(days=5)).date().isoformat()}, ["SO-000007"], ["ann@example.com", "soms_abc"]),
])
def test_filters(client, auth, shop_log, query, shown, hidden):
    auth.login()
    response = client.get("/activity", query_string=query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert all(text in page for text in shown) and not any(text in page for text in hidden)


@pytest.mark.parametrize("query, message", [
    ({"kind": "spaceships"}, "&#39;spaceships&#39; is not a kind of thing; kind must be one of"),
    ({"from": "2026-13-01"}, "&#39;2026-13-01&#39; is not a date as YYYY-MM-DD"),
    ({"to": "yesterday"}, "&#39;yesterday&#39; is not a date as YYYY-MM-DD"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "The range must run forward"),
    ({"page": "two"}, "The page number must be a whole number"),
    ({"page": "0"}, "The page number must be a whole number"),
    ({"who": "x" * 300}, "&#39;who&#39; must be one of the names in the list"),
    ({"who": "bad\x01name"}, "&#39;who&#39; must be one of the names in the list"),
    ({"who": "bad\x00name"}, "&#39;who&#39; contains a NUL character"),  # refused before any view runs
    ({"q": "\x01" * 5000}, None),  # cleaned and cut: simply no match
])
def test_bad_filters_are_named_never_a_500(client, auth, shop_log, query, message):
    auth.login()
    response = client.get("/activity", query_string=query)
    if message is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    csv_response = client.get("/activity.csv", query_string=query)
    if "page" not in query:  # the CSV has no pages
        assert csv_response.status_code == 400
        text = csv_response.get_data(as_text=True).replace("&#39;", "'")
        assert message.replace("&#39;", "'") in text


def test_htmx_gets_the_list_fragment_alone(client, auth, shop_log):
    auth.login()
    response = client.get("/activity?kind=order", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="activity-entries">') and "<html" not in body


def test_pages_of_fifty(client, auth, app):
    auth.login()
    add_entries(*({"thing_ref": f"SO-{n:06d}", "at": utcnow() - timedelta(minutes=n)} for n in range(1, 61)))
    first = client.get("/activity?kind=order").get_data(as_text=True)
    second = client.get("/activity?kind=order&page=2").get_data(as_text=True)
    assert "SO-000001" in first and "SO-000050" in first and "SO-000051" not in first
    assert "SO-000051" in second and "SO-000060" in second and "SO-000050" not in second
    assert 'href="/activity?page=2&amp;kind=order"' in first


def test_csv_export_of_the_filtered_view(client, auth, shop_log):
    auth.login()
    response = client.get("/activity.csv?kind=order")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "who", "kind", "action", "thing", "changes", "note"]
    assert [row[4] for row in rows[1:]] == ["SO-000007"]
    assert rows[1][5] == "status: confirmed → shipped"


def test_csv_cells_cannot_run_as_formulas(client, auth, app):
    auth.login()
    add_entries({"thing_ref": "=HYPERLINK(\"http://evil\")", "note": "+1"})
    rows = list(csv.reader(io.StringIO(client.get("/activity.csv").get_data(as_text=True))))
    assert rows[1][4].startswith("'=") and rows[1][6] == "'+1"


def test_csv_comes_in_batches_without_losing_or_repeating_an_entry(client, auth, app, monkeypatch):
    from webapp.activity import routes

    auth.login()
    monkeypatch.setattr(routes, "CSV_BATCH", 2)
    same_moment = utcnow()  # entries of one commit share a moment: the id breaks the tie
    add_entries(*({"thing_ref": f"SO-{n:06d}", "at": same_moment} for n in range(1, 8)))
    rows = list(csv.reader(io.StringIO(client.get("/activity.csv?kind=order").get_data(as_text=True))))
    assert [row[4] for row in rows[1:]] == [f"SO-{n:06d}" for n in range(7, 0, -1)]
