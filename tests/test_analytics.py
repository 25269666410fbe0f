"""Key figures checked against a small shop computed by hand (DESIGN.md §6: T_avg and R as defined there), the
dashboard with its charts and CSV exports, and what looks unusual (issue 4, item 7)."""
import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.factories import ADDRESS, new_order
from tests.test_board import count_queries
from webapp.analytics import anomalies, kpis
from webapp.api.openapi import AnalyticsSummary
from webapp.emails.models import OutgoingEmail
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.forecasting.models import DemandForecast, SalesAnomaly
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today

RANGE = {"from": "2026-11-01", "to": "2026-11-07"}
LOWER_LEEDS = ADDRESS | {"city": "leeds"}
PARIS = {"line1": "3 rue Lepic", "city": "Paris", "postcode": "75018", "country": "FR"}


def placed(sku, quantity, customer, created, status, shipped=None, channel="web", address=ADDRESS, rating=None):
    order = new_order(sku, quantity, name=customer, email=f"{customer.lower()}@example.com", address=address,
                      channel=channel)
    order.status, order.created_at, order.shipped_at = status, created, shipped
    if rating:
        db.session.add(OrderFeedback(order_id=order.id, rating=rating))
    db.session.commit()
    return order


@pytest.fixture
def shop(app, make_product):
    """1–7 Nov 2026 (GMT, so shop time is UTC) beside 25–31 Oct, which starts in summer time (BST, UTC+1)."""
    make_product("A", name="Alpha vase", price="10.00", stock=100, cost="4.00")
    make_product("B", name="Beta cup", price="5.00", stock=100)  # no unit cost
    placed("A", 1, "Dee", datetime(2026, 10, 20, 9), "delivered", datetime(2026, 10, 21, 9), address=PARIS,
           rating=1)  # before both periods
    # 23:30 UTC on 24 Oct is 00:30 BST on the 25th: the first day of the period before.
    placed("A", 1, "Gus", datetime(2026, 10, 24, 23, 30), "confirmed")
    # 23:30 UTC on 31 Oct is 23:30 GMT (summer time ended on the 25th): still the period before, its last day.
    placed("B", 1, "Hal", datetime(2026, 10, 31, 23, 30), "confirmed")
    # The range, 1–7 Nov:
    placed("A", 2, "Ann", datetime(2026, 11, 2, 10), "delivered", datetime(2026, 11, 3, 10), rating=5)  # 24 h
    placed("B", 1, "Ann", datetime(2026, 11, 3, 12), "shipped", datetime(2026, 11, 3, 18), channel="shopify")  # 6 h
    placed("A", 1, "Bob", datetime(2026, 11, 4, 9), "cancelled")
    placed("B", 4, "Cat", datetime(2026, 11, 5, 9), "confirmed", channel="api", address=LOWER_LEEDS)
    placed("A", 1, "Dee", datetime(2026, 11, 6, 9), "on_hold", address=PARIS)
    placed("B", 2, "Fay", datetime(2026, 11, 7, 9), "returned", datetime(2026, 11, 7, 12), channel="shopify",
           address=None, rating=2)  # 3 h; no address, so no country or town
    placed("B", 9, "Eve", datetime(2026, 11, 8, 9), "confirmed")  # after the range


def test_summary_matches_the_hand_computed_figures(shop, api):
    response = api.get("/analytics/summary", **RANGE)
    assert response.status_code == 200, response.json
    body = AnalyticsSummary.model_validate(response.json)
    # In the range: Ann 20 (delivered), Ann 5 (shipped), Bob 10 (cancelled), Cat 20, Dee 10, Fay 10 (returned).
    assert body.orders == 6  # cancelled counts as an order received
    assert body.revenue == "65.00"  # 20 + 5 + 20 + 10 + 10, without the cancelled 10
    assert body.aov == "13.00"  # 65 / 5 orders that earn
    assert body.t_avg_hours == 11.0  # (24 + 6 + 3) / 3 shipped orders
    assert body.t_median_hours == 6.0  # the middle of 3, 6, 24
    assert body.completion_rate == 0.1667  # 1 delivered / 6 that left pending
    assert body.cancellation_rate == 0.1667  # 1 / 6
    assert body.return_rate == 0.3333  # Fay's 1 returned / 3 shipped or later (Ann's two and Fay's)
    assert body.repeat_customer_rate == 0.5  # Ann (twice) and Dee (ordered before) of Ann, Cat, Dee, Fay
    # B: 1 + 4 + 2 units = 5 + 20 + 10; A: 2 + 1 units = 20 + 10 (Bob's cancelled A left out).
    assert [(p.sku, p.quantity, p.revenue) for p in body.top_products] == [("B", 7, "35.00"), ("A", 3, "30.00")]


def test_margin_satisfaction_and_customers_match_the_hand_computed_figures(shop, api):
    body = AnalyticsSummary.model_validate(api.get("/analytics/summary", **RANGE).json)
    # Only A has a cost (4.00): its 3 units sold for 30.00 cost 12.00; B's 35.00 has no known cost.
    assert body.gross_margin.model_dump() == {"margin": "18.00", "margin_rate": 0.6,  # 18 / 30
                                              "costed_revenue": "30.00", "cost_coverage": 0.4615}  # 30 / 65
    # Ann's 5 and Fay's 2 are in the range; Dee's 1 is on an order from October.
    assert body.satisfaction.model_dump() == {"average_rating": 3.5, "ratings": 2}
    # All orders received per channel (Bob's cancelled web order too), revenue without it.
    assert [c.model_dump() for c in body.channels] == [
        {"channel": "web", "orders": 3, "revenue": "30.00", "share": 0.5},  # Ann 20, Bob (cancelled), Dee 10
        {"channel": "shopify", "orders": 2, "revenue": "15.00", "share": 0.3333},  # Ann 5, Fay 10
        {"channel": "api", "orders": 1, "revenue": "20.00", "share": 0.1667},  # Cat 20
    ]
    assert [(c.name, c.orders, c.revenue) for c in body.top_customers] == [
        ("Ann", 2, "25.00"), ("Cat", 1, "20.00"), ("Dee", 1, "10.00"), ("Fay", 1, "10.00")]
    # Customers who bought: Ann and Cat in Leeds/leeds GB, Dee in Paris FR, Fay with no address (listed last).
    assert [(c.country, c.customers, c.orders, c.revenue) for c in body.countries] == [
        ("GB", 2, 3, "45.00"), ("FR", 1, 1, "10.00"), ("", 1, 1, "10.00")]
    assert [(c.city, c.country, c.customers, c.orders) for c in body.cities] == [
        ("Leeds", "GB", 2, 3), ("Paris", "FR", 1, 1), ("", "", 1, 1)]
    # Orders per customer in the range: Ann 2; Cat, Dee, Fay 1 each.
    assert [(band.orders, band.customers) for band in body.frequency.customers_by_orders] == [
        ("1", 3), ("2", 1), ("3–5", 0), ("6+", 0)]
    # Consecutive orders of a customer both in the range: only Ann's, 2 Nov 10:00 -> 3 Nov 12:00 = 26 h = 1.08 d
    # (Dee's October order is before the range).
    assert body.frequency.median_days_between_orders == 1.1


def test_order_frequency_and_the_median_gap_between_orders(app, make_product):
    make_product("A", price="10.00", stock=100)
    for day in (1, 2, 5):
        placed("A", 1, "Uma", datetime(2026, 11, day, 10), "confirmed")  # gaps of 1 and 3 days
    placed("A", 1, "Val", datetime(2026, 11, 1, 10), "delivered")
    placed("A", 1, "Val", datetime(2026, 11, 4, 10), "cancelled")  # not a purchase: no gap ends or starts here
    placed("A", 1, "Val", datetime(2026, 11, 7, 10), "confirmed")  # a gap of 6 days
    placed("A", 1, "Wes", datetime(2026, 11, 3, 10), "confirmed")
    placed("A", 1, "Wes", datetime(2026, 11, 5, 10), "confirmed")  # a gap of 2 days
    first, last = date(2026, 11, 1), date(2026, 11, 7)
    assert [row["customers"] for row in kpis.order_frequency(first, last)] == [0, 2, 1, 0]  # 1, 2, 3–5, 6+
    assert kpis.figures(first, last).days_between_orders == 2.5  # gaps 1, 2, 3, 6: the middle two, (2 + 3) / 2
    for day in range(1, 7):
        placed("A", 1, "Xan", datetime(2026, 11, day, 8), "confirmed")  # six orders, five gaps of 1 day
    assert [row["customers"] for row in kpis.order_frequency(first, last)] == [0, 2, 1, 1]
    assert kpis.figures(first, last).days_between_orders == 1.0  # 1, 1, 1, 1, 1, 1, 2, 3, 6: the fifth


def test_days_are_shop_days_beside_the_same_day_of_the_period_before(shop, api):
    body = AnalyticsSummary.model_validate(api.get("/analytics/summary", **RANGE).json)
    assert [(d.date, d.orders, d.revenue, d.previous_date, d.previous_orders, d.previous_revenue)
            for d in body.daily] == [
        ("2026-11-01", 0, "0.00", "2026-10-25", 1, "10.00"),  # Gus at 00:30 BST on the 25th
        ("2026-11-02", 1, "20.00", "2026-10-26", 0, "0.00"),
        ("2026-11-03", 1, "5.00", "2026-10-27", 0, "0.00"),
        ("2026-11-04", 1, "0.00", "2026-10-28", 0, "0.00"),  # Bob's, cancelled: an order, no revenue
        ("2026-11-05", 1, "20.00", "2026-10-29", 0, "0.00"),
        ("2026-11-06", 1, "10.00", "2026-10-30", 0, "0.00"),
        ("2026-11-07", 1, "10.00", "2026-10-31", 1, "5.00"),  # Hal at 23:30 GMT on the 31st
    ]


def test_days_follow_a_shop_west_of_greenwich_through_its_clock_change(app, make_product, api):
    from flask import g

    settings = current_settings()
    settings.time_zone = "America/New_York"  # EDT (UTC-4) until 06:00 UTC on 1 Nov 2026, then EST (UTC-5)
    db.session.commit()
    g.pop("shop_zone", None)
    make_product("A", price="10.00")
    placed("A", 1, "Ann", datetime(2026, 10, 31, 3, 30), "confirmed")  # 23:30 EDT on 30 Oct
    placed("A", 2, "Bob", datetime(2026, 11, 1, 4, 30), "confirmed")  # 00:30 EDT on 1 Nov
    placed("A", 3, "Cat", datetime(2026, 11, 2, 4, 30), "confirmed")  # 23:30 EST on 1 Nov
    body = api.get("/analytics/summary", **{"from": "2026-10-30", "to": "2026-11-02"}).json
    assert [(d["date"], d["orders"], d["revenue"]) for d in body["daily"]] == [
        ("2026-10-30", 1, "10.00"), ("2026-10-31", 0, "0.00"), ("2026-11-01", 2, "50.00"), ("2026-11-02", 0, "0.00")]


def test_an_empty_range_has_no_rates(shop, api):
    response = api.get("/analytics/summary", **{"from": "2025-01-01", "to": "2025-01-31"})
    body = AnalyticsSummary.model_validate(response.json)
    assert (body.orders, body.revenue, body.aov) == (0, "0.00", "0.00")
    assert body.completion_rate is None and body.t_avg_hours is None and body.t_median_hours is None
    assert body.return_rate is None and body.top_products == [] and body.channels == [] and body.cities == []
    assert body.gross_margin.model_dump() == {"margin": "0.00", "margin_rate": None, "costed_revenue": "0.00",
                                              "cost_coverage": None}
    assert body.satisfaction.model_dump() == {"average_rating": None, "ratings": 0}
    assert [band.customers for band in body.frequency.customers_by_orders] == [0, 0, 0, 0]
    assert body.frequency.median_days_between_orders is None
    assert len(body.daily) == 31 and {(d.orders, d.revenue) for d in body.daily} == {(0, "0.00")}
    assert body.unusual.model_dump() == {"days": [], "products": [], "orders": []}


@pytest.mark.parametrize("params, field", [
    ({}, "from"), ({"from": "2026-11-01"}, "to"), ({"from": "01/11/2026", "to": "2026-11-07"}, "from"),
    ({"from": "2026-11-07", "to": "2026-11-01"}, "to"), ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "20261101", "to": "2026-11-07"}, "from"), ({"from": "1990-01-01", "to": "2026-11-07"}, "to"),
])
def test_bad_dates_are_named(api, params, field):
    response = api.get("/analytics/summary", **params)
    assert response.status_code == 422 and field in response.json["errors"]


def test_the_dashboard_takes_the_same_few_queries_however_many_orders(shop, client, auth, api):
    auth.login()
    client.get("/dashboard")  # settles what a request caches (the shop's zone and currency) before counting
    with count_queries() as few:
        summary = kpis.summary(date(2026, 11, 1), date(2026, 11, 7))
    db.session.rollback()  # let go of SQLite's lock before the requests
    with count_queries() as few_page:
        assert client.get("/dashboard?from=2026-11-01&to=2026-11-07").status_code == 200
    with count_queries() as few_api:
        api.get("/analytics/summary", **RANGE)
    db.session.rollback()  # the requests ran in this app context: end their read transaction before writing
    for day in range(1, 8):
        placed("B", 1, f"Buyer{day}", datetime(2026, 11, day, 15), "delivered", datetime(2026, 11, day, 20),
               rating=4)
        placed("A", 1, "Ann", datetime(2026, 11, day, 16), "confirmed")
    with count_queries() as many:
        more = kpis.summary(date(2026, 11, 1), date(2026, 11, 7))
    db.session.rollback()
    with count_queries() as many_page:
        client.get("/dashboard?from=2026-11-01&to=2026-11-07")
    with count_queries() as many_api:
        api.get("/analytics/summary", **RANGE)
    assert (summary.orders, more.orders) == (6, 20)

    def selects(queries):
        return [query for query in queries if query.lstrip().upper().startswith(("SELECT", "WITH"))]
    # The days whose rollups changed; the figures' totals, medians and ratings; the products sold (also the top
    # products); the buyers (also top customers, countries, towns and frequency); the channels; the days.
    assert len(selects(many)) == len(selects(few)) == 7
    assert len(selects(many_page)) == len(selects(few_page)) and len(selects(many_api)) == len(selects(few_api))


def _figure(html: str, key: str) -> str:
    card = html[html.index(f'data-figure="{key}"'):]
    return card[:card.index("</div>")]


def test_dashboard_shows_the_range_beside_the_period_before(shop, client, auth):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    assert "£65.00" in _figure(html, "revenue") and "before: £15.00" in _figure(html, "revenue")  # Gus 10 + Hal 5
    assert "£18.00" in _figure(html, "gross_margin") and "costs known for 46.2% of sales" in html
    assert "6.0 h" in _figure(html, "t_median_hours") and "33.3%" in _figure(html, "return_rate")
    assert "3.50 / 5" in _figure(html, "average_rating") and "2 ratings" in _figure(html, "average_rating")
    assert "Alpha vase" in html and "£30.00" in html and "shopify" in html and "Paris" in html
    wider = client.get("/dashboard?from=2026-10-27&to=2026-11-07").get_data(as_text=True)  # before: 15–26 Oct
    assert "before: £20.00" in _figure(wider, "revenue")  # Dee's 10 on 20 Oct and Gus's 10 on the 25th
    fragment = client.get("/dashboard?from=2026-10-20&to=2026-10-20", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="figures">')


def test_dashboard_draws_its_charts_from_the_figures(shop, client, auth):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    configs = [json.loads(raw.replace("&#39;", "'")) for raw in re.findall(r"data-chart='([^']*)'", html)]
    orders, revenue, channels, products, countries = configs
    assert orders["data"]["labels"][0] == "01 Nov" and len(orders["data"]["labels"]) == 7
    # This period, then the one before, day by day (Gus on 25 Oct and Hal on 31 Oct).
    assert [d["data"] for d in orders["data"]["datasets"]] == [[0, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 1]]
    assert revenue["data"]["datasets"][0]["data"] == [0, 20.0, 5.0, 0, 20.0, 10.0, 10.0]
    assert channels["type"] == "doughnut" and channels["data"]["labels"] == ["web", "shopify", "api"]
    assert products["data"]["labels"] == ["Beta cup", "Alpha vase"]
    assert countries["data"]["labels"] == ["GB", "FR", "unknown"]
    assert "<script" not in html.split("</head>")[1]  # charts start from app.js, no inline scripts


def test_dashboard_names_bad_input(shop, client, auth):
    auth.login()
    response = client.get("/dashboard?from=yesterday&to=2026-11-07")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "from: &#39;yesterday&#39; is not a date" in text
    backwards = client.get("/dashboard?from=2026-11-07&to=2026-11-01")
    assert backwards.status_code == 400 and "to: The range must run forward" in backwards.get_data(as_text=True)
    assert client.get("/dashboard?from=2000-01-01&to=2026-11-01").status_code == 400
    bad_csv = client.get("/dashboard/export.csv?from=2026-13-01&to=2026-11-01")
    assert bad_csv.status_code == 400 and bad_csv.get_data(as_text=True).startswith("from: ")
    unknown = client.get("/dashboard/export.csv?table=orders;drop&from=2026-11-01&to=2026-11-07")
    assert unknown.status_code == 400 and unknown.get_data(as_text=True).startswith("table: ")
    assert client.get("/dashboard/export.csv?table=&from=2026-11-01&to=2026-11-07").status_code == 400


def _csv(client, table, **params):
    response = client.get("/dashboard/export.csv", query_string={"table": table, **RANGE, **params})
    assert response.status_code == 200 and response.mimetype == "text/csv", response.data
    assert f"solo-oms-{table}-2026-11-01-2026-11-07.csv" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_every_table_exports_to_csv(shop, client, auth):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    linked = set(re.findall(r"export\.csv\?table=(\w+)", html))
    assert linked == {"figures", "daily", "channels", "products", "customers", "frequency", "countries", "cities"}
    figures = _csv(client, "figures")
    assert figures[0] == ["figure", "this period", "period before"]
    assert ["Revenue", "65.00", "15.00"] in figures and ["Orders", "6", "2"] in figures
    assert ["Return rate", "0.3333", ""] in figures  # nothing shipped in the period before
    assert ["Share of sales with a known cost", "0.4615", "0.6667"] in figures  # before: Gus's 10 of 15
    assert _csv(client, "daily")[1:3] == [["2026-11-01", "0", "0.00", "2026-10-25", "1", "10.00"],
                                          ["2026-11-02", "1", "20.00", "2026-10-26", "0", "0.00"]]
    assert _csv(client, "products")[1:] == [["B", "Beta cup", "7", "35.00"], ["A", "Alpha vase", "3", "30.00"]]
    assert _csv(client, "channels")[1] == ["web", "3", "30.00", "0.5"]
    assert _csv(client, "customers")[1] == ["Ann", "ann@example.com", "2", "25.00"]
    assert _csv(client, "countries")[1:] == [["GB", "2", "3", "45.00"], ["FR", "1", "1", "10.00"],
                                             ["", "1", "1", "10.00"]]
    assert _csv(client, "cities")[1] == ["Leeds", "GB", "2", "3"]
    assert _csv(client, "frequency")[1:] == [["1", "3"], ["2", "1"], ["3–5", "0"], ["6+", "0"]]
    assert _csv(client, "unusual_days") == [["day", "measure", "actual", "expected", "lower", "upper"]]


def test_csv_cells_never_run_as_spreadsheet_formulas(app, make_product, client, auth):
    make_product("A", price="10.00")
    order = new_order("A", 1, name='=HYPERLINK("http://evil.example")', email="evil@example.com")
    order.created_at = datetime(2026, 11, 2, 10)
    db.session.commit()
    auth.login()
    rows = _csv(client, "customers")
    assert rows[1][0] == "'=HYPERLINK(\"http://evil.example\")"


# Unusual: days from the forecast job, demand shifts, orders far from their customer's usual.

@pytest.fixture
def odd_shop(app, make_product):
    a = make_product("A", name="Alpha vase", price="10.00", stock=200)
    b = make_product("B", name="Beta cup", price="5.00", stock=200)
    c = make_product("C", name="Gamma bowl", price="8.00", stock=10)
    d = make_product("D", name="Delta jug", price="8.00", stock=10, active=False)
    for product, shift in ((a, 1.8), (b, 1.2), (c, 0.5), (d, 2.5)):
        db.session.add(DemandForecast(product_id=product.id, as_of=date(2026, 11, 7), model="fallback",
                                      demand_shift=shift))
    for day, measure, actual, expected, lower, upper in (
            (date(2026, 11, 3), "orders", 9, 3.2, 1.1, 5.4),
            (date(2026, 11, 5), "revenue", 10.0, 80.0, 40.0, 120.0),
            (date(2026, 10, 30), "orders", 12, 3, 1, 5),  # before the range
            (date(2026, 11, 8), "revenue", 500, 80, 40, 120)):  # after it
        db.session.add(SalesAnomaly(day=day, measure=measure, actual=actual, expected=expected, lower=lower,
                                    upper=upper))
    db.session.commit()

    def history(customer, sku, quantity, count, status="delivered"):
        for week in range(count):
            placed(sku, quantity, customer, datetime(2026, 10, 1 + 7 * week, 10), status)
    history("Ivy", "A", 1, 3)  # usually 10.00
    placed("A", 4, "Ivy", datetime(2026, 11, 4, 10), "confirmed")  # 40 > 3 x 10: unusual, high
    history("Lea", "A", 6, 3)  # usually 60.00
    placed("B", 1, "Lea", datetime(2026, 11, 6, 10), "confirmed")  # 5 x 3 = 15 < 60: unusual, low
    history("Jon", "A", 1, 3)  # usually 10.00
    placed("A", 3, "Jon", datetime(2026, 11, 5, 10), "confirmed")  # 30 is exactly 3 x 10: not unusual
    history("Kim", "A", 1, 2)  # only 2 earlier orders
    placed("A", 9, "Kim", datetime(2026, 11, 6, 10), "confirmed")  # not judged
    history("Mo", "A", 1, 2)
    placed("A", 1, "Mo", datetime(2026, 10, 29, 10), "cancelled")  # does not count as a third
    placed("A", 9, "Mo", datetime(2026, 11, 6, 11), "confirmed")  # not judged
    history("Pat", "A", 1, 3)
    placed("A", 9, "Pat", datetime(2026, 11, 6, 12), "cancelled")  # 90, but cancelled: not a sale


def test_unusual_days_products_and_orders(odd_shop):
    found = anomalies.unusual(date(2026, 11, 1), date(2026, 11, 7))
    assert [(row["day"], row["measure"], row["direction"]) for row in found.days] == [
        (date(2026, 11, 3), "orders", "high"), (date(2026, 11, 5), "revenue", "low")]
    # A sold 1.8x what was expected, C half; B's 1.2 is within bounds and D is no longer sold.
    assert [(row["sku"], row["demand_shift"], row["direction"]) for row in found.products] == [
        ("A", 1.8, "up"), ("C", 0.5, "down")]
    assert [(row["number"] is not None, row["customer"], str(row["total"]), str(row["usual"]), row["earlier_orders"],
             row["direction"]) for row in found.orders] == [
        (True, "Ivy", "40.00", "10.00", 3, "high"), (True, "Lea", "5.00", "60.00", 3, "low")]


def test_the_dashboard_and_the_api_show_what_is_unusual(odd_shop, client, auth, api):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    panel = html[html.index('id="unusual"'):html.index('class="panels"')]
    assert "Tue 03 Nov" in panel and "orders high" in panel and "3.2<small class=\"note\">usual 1.1–5.4" in panel
    assert "revenue low" in panel and "usual 40.00–120.00" in panel and "Fri 30 Oct" not in panel
    assert "Alpha vase" in panel and "× 1.80 (up)" in panel and "Gamma bowl" in panel and "Beta cup" not in panel
    assert "Ivy" in panel and "Lea" in panel and "Jon" not in panel and "Kim" not in panel and "Pat" not in panel
    assert _csv(client, "unusual_products")[1:] == [["A", "Alpha vase", "1.8", "2026-11-07"],
                                                    ["C", "Gamma bowl", "0.5", "2026-11-07"]]
    assert [row[1:] for row in _csv(client, "unusual_orders")[1:]] == [
        ["Ivy", "2026-11-04 10:00:00", "40.00", "10.00", "3"], ["Lea", "2026-11-06 10:00:00", "5.00", "60.00", "3"]]
    assert _csv(client, "unusual_days")[1] == ["2026-11-03", "orders", "9.0", "3.2", "1.1", "5.4"]
    body = AnalyticsSummary.model_validate(api.get("/analytics/summary", **RANGE).json)
    assert [(d.day, d.measure, d.actual) for d in body.unusual.days] == [("2026-11-03", "orders", 9.0),
                                                                        ("2026-11-05", "revenue", 10.0)]
    assert [(p.sku, p.direction) for p in body.unusual.products] == [("A", "up"), ("C", "down")]
    assert [(o.customer, o.total, o.usual_total, o.direction, o.created_at) for o in body.unusual.orders] == [
        ("Ivy", "40.00", "10.00", "high", "2026-11-04T10:00:00Z"), ("Lea", "5.00", "60.00", "low",
                                                                    "2026-11-06T10:00:00Z")]


def test_a_quiet_range_says_nothing_is_unusual(shop, client, auth):
    auth.login()
    html = client.get("/dashboard?from=2026-11-01&to=2026-11-07").get_data(as_text=True)
    assert "Nothing unusual in this range." in html


def test_the_daily_digest_lists_what_was_unusual_yesterday(app, make_product):
    settings = current_settings()
    settings.shop_email = "owner@clay.example"
    db.session.commit()
    a = make_product("A", name="Alpha vase", price="10.00", stock=100)
    db.session.add(DemandForecast(product_id=a.id, as_of=shop_today(), model="fallback", demand_shift=2.0))
    yesterday = shop_today() - timedelta(days=1)
    db.session.add(SalesAnomaly(day=yesterday, measure="revenue", actual=420.0, expected=90.0, lower=40.0,
                                upper=150.0))
    db.session.add(SalesAnomaly(day=yesterday - timedelta(days=3), measure="orders", actual=30, expected=4, lower=1,
                                upper=8))  # older news: not in today's digest
    db.session.commit()
    for weeks in (6, 5, 4):
        placed("A", 1, "Ivy", datetime.combine(yesterday - timedelta(weeks=weeks), time(12)), "delivered")
    big = placed("A", 5, "Ivy", datetime.combine(yesterday, time(12)), "confirmed")  # 50 against 10 usually
    from webapp.alerts.digest import send_daily_digest

    assert send_daily_digest(now=datetime.combine(shop_today(), time(7)))
    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "digest")).one()
    for body in (email.text_body, email.html_body):
        assert "Unusual" in body
        assert f"{yesterday:%a %d %b}: revenue 420.00, more than the expected 40.00 to 150.00" in body
        assert "Alpha vase (A): demand up, 2.00 times what was expected" in body
        assert f"{big.number} for Ivy: £50.00, usually £10.00" in body
        assert f"{yesterday - timedelta(days=3):%a %d %b}:" not in body
        assert "/dashboard" in body


def test_a_quiet_day_leaves_unusual_out_of_the_digest(app):
    settings = current_settings()
    settings.shop_email = "owner@clay.example"
    db.session.commit()
    from webapp.alerts.digest import send_daily_digest

    assert send_daily_digest(now=datetime.combine(shop_today(), time(7)))
    email = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "digest")).one()
    assert "Unusual" not in email.text_body and "Unusual" not in email.html_body


def test_a_sale_below_cost_has_a_negative_margin(app, make_product, api):
    make_product("A", price="10.00", cost="12.00")  # sold at a loss
    placed("A", 1, "Zed", datetime(2026, 11, 2, 10), "confirmed")
    body = api.get("/analytics/summary", **RANGE).json
    assert body["gross_margin"] == {"margin": "-2.00", "margin_rate": -0.2, "costed_revenue": "10.00",
                                    "cost_coverage": 1.0}


@pytest.mark.parametrize("query, field", [
    ("from=0001-01-01&to=0001-01-31", "from"), ("from=2026-01-01&to=9999-12-31", "to"),
    ("from=2026-W01-1&to=2026-01-31", "from"), ("from=20260101&to=2026-01-31", "from"),
])
def test_dates_out_of_reach_are_named_not_a_500(client, auth, api, query, field):
    auth.login()
    page = client.get(f"/dashboard?{query}")
    assert page.status_code == 400 and "YYYY-MM-DD" in page.get_data(as_text=True)
    assert client.get(f"/dashboard/export.csv?table=figures&{query}").status_code == 400
    answer = api.get("/analytics/summary", **dict(pair.split("=") for pair in query.split("&")))
    assert answer.status_code in (400, 422) and field in answer.json["errors"]


def test_postgresql_connections_compile_no_statement_to_machine_code(app):
    """JIT compiling the dashboard's statements over a year of orders cost 0.2-0.6 s, more than running them."""
    from sqlalchemy import text

    from webapp.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
