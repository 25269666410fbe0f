"""Key figures checked against a small shop computed by hand (DESIGN.md §6: T_avg and R as defined there)."""
from datetime import datetime

import pytest

from tests.factories import new_order
from webapp.api.openapi import AnalyticsSummary
from webapp.extensions import db


def placed(sku, quantity, customer, created, status, shipped=None):
    order = new_order(sku, quantity, name=customer, email=f"{customer.lower()}@example.com")
    order.status, order.created_at, order.shipped_at = status, created, shipped
    db.session.commit()
    return order


@pytest.fixture
def shop(app, make_product):
    make_product("A", name="Alpha vase", price="10.00", stock=100)
    make_product("B", name="Beta cup", price="5.00", stock=100)
    placed("A", 1, "Dee", datetime(2026, 10, 20, 9), "delivered", datetime(2026, 10, 21, 9))  # before the range
    placed("A", 2, "Ann", datetime(2026, 11, 2, 10), "delivered", datetime(2026, 11, 3, 10))  # 24 h
    placed("B", 1, "Ann", datetime(2026, 11, 3, 12), "shipped", datetime(2026, 11, 3, 18))  # 6 h
    placed("A", 1, "Bob", datetime(2026, 11, 4, 9), "cancelled")
    placed("B", 4, "Cat", datetime(2026, 11, 5, 9), "confirmed")
    placed("A", 1, "Dee", datetime(2026, 11, 6, 9), "on_hold")
    placed("B", 9, "Eve", datetime(2026, 11, 8, 9), "confirmed")  # after the range


def test_summary_matches_the_hand_computed_figures(shop, api):
    response = api.get("/analytics/summary", **{"from": "2026-11-01", "to": "2026-11-07"})
    assert response.status_code == 200, response.json
    body = AnalyticsSummary.model_validate(response.json)
    assert body.orders == 5  # cancelled counts as an order received
    assert body.revenue == "55.00"  # 20 + 5 + 20 + 10, without the cancelled 10
    assert body.aov == "13.75"  # 55 / 4 orders that earn
    assert body.t_avg_hours == 15.0  # (24 + 6) / 2 shipped orders
    assert body.completion_rate == 0.2  # 1 delivered / 5 that left pending
    assert body.cancellation_rate == 0.2  # 1 / 5
    assert body.repeat_customer_rate == 0.6667  # Ann (twice) and Dee (ordered before) of Ann, Cat, Dee
    assert [(p.sku, p.quantity, p.revenue) for p in body.top_products] == [("A", 3, "30.00"), ("B", 5, "25.00")]


def test_an_empty_range_has_no_rates(shop, api):
    body = api.get("/analytics/summary", **{"from": "2025-01-01", "to": "2025-01-31"}).json
    assert (body["orders"], body["revenue"], body["aov"]) == (0, "0.00", "0.00")
    assert body["completion_rate"] is None and body["t_avg_hours"] is None and body["top_products"] == []


@pytest.mark.parametrize("params, field", [
    ({}, "from"), ({"from": "2026-11-01"}, "to"), ({"from": "01/11/2026", "to": "2026-11-07"}, "from"),
    ({"from": "2026-11-07", "to": "2026-11-01"}, "to"), ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "20261101", "to": "2026-11-07"}, "from"), ({"from": "1990-01-01", "to": "2026-11-07"}, "to"),
])
def test_bad_dates_are_named(api, params, field):
    response = api.get("/analytics/summary", **params)
    assert response.status_code == 422 and field in response.json["errors"]


def test_the_summary_takes_the_same_few_queries_however_many_orders(shop, app):
    from datetime import date

    from tests.test_board import count_queries
    from webapp.analytics.kpis import summary

    with count_queries() as few:
        summary(date(2026, 11, 1), date(2026, 11, 7))
    for day in range(1, 8):
        placed("B", 1, f"Buyer{day}", datetime(2026, 11, day, 15), "delivered", datetime(2026, 11, day, 20))
    with count_queries() as many:
        result = summary(date(2026, 11, 1), date(2026, 11, 7))
    assert len(many) == len(few) <= 4 and result.orders == 12


def test_dashboard_shows_the_range_beside_the_period_before(shop, client, auth):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    revenue = html[html.index('data-figure="revenue"'):]
    revenue = revenue[:revenue.index("</div>")]
    assert "£55.00" in revenue and "before: £0.00" in revenue  # 25–31 Oct: no orders
    assert "Alpha vase" in html and "£30.00" in html
    wider = client.get("/dashboard?from=2026-10-27&to=2026-11-07").get_data(as_text=True)  # before: 15–26 Oct
    assert "before: £10.00" in wider
    fragment = client.get("/dashboard?from=2026-10-20&to=2026-10-20", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="figures">')


def test_dashboard_names_bad_dates(shop, client, auth):
    auth.login()
    response = client.get("/dashboard?from=yesterday&to=2026-11-07")
    assert response.status_code == 400 and "&#39;yesterday&#39; is not a date" in response.get_data(as_text=True)
    assert client.get("/dashboard?from=2026-11-07&to=2026-11-01").status_code == 400
    assert client.get("/dashboard/export.csv?from=2026-13-01&to=2026-11-01").status_code == 400


def test_dashboard_exports_csv(shop, client, auth):
    auth.login()
    response = client.get("/dashboard/export.csv?from=2026-11-01&to=2026-11-07")
    assert response.mimetype == "text/csv" and "2026-11-01-2026-11-07.csv" in response.headers["Content-Disposition"]
    rows = response.get_data(as_text=True).splitlines()
    assert "Revenue,55.00" in rows and "Orders,5" in rows and "A,Alpha vase,3,30.00" in rows
