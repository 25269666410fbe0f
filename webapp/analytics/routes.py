"""The dashboard: the key figures of a date range beside the previous period of equal length, breakdowns and charts,
what looked unusual, and every table as CSV."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, Response, request

from webapp import charts
from webapp.analytics import anomalies, kpis
from webapp.timekeeping import shop_today
from webapp.validation import FIRST_YEAR, LAST_YEAR, parse_day
from webapp.views import render_page, spreadsheet_safe

bp = Blueprint("analytics", __name__, url_prefix="/dashboard")
MAX_DAYS = 3660
DEFAULT_DAYS = 30
TOP = 10
EXPORT_ROWS = 10_000
# (key, label, how to show it): the cards compared with the period before, in this order.
FIGURES = (
    ("orders", "Orders", "count"), ("revenue", "Revenue", "money"), ("aov", "Average order", "money"),
    ("gross_margin", "Gross margin", "money"), ("margin_rate", "Margin rate", "rate"),
    ("t_avg_hours", "Hours to ship (mean)", "hours"), ("t_median_hours", "Hours to ship (median)", "hours"),
    ("completion_rate", "Completion rate", "rate"), ("cancellation_rate", "Cancellation rate", "rate"),
    ("return_rate", "Return rate", "rate"), ("repeat_customer_rate", "Repeat customers", "rate"),
    ("days_between_orders", "Days between orders (median)", "days"), ("average_rating", "Average rating", "rating"),
)
# Also in the CSV of the figures: what the margin and the rating rest on.
MORE_FIGURES = (("costed_revenue", "Sales with a known cost", "money"),
                ("cost_coverage", "Share of sales with a known cost", "rate"), ("ratings", "Ratings", "count"))


def read_range(args) -> tuple[date, date, dict[str, str]]:
    """The range from the query string (default: the last 30 days), with errors keyed by the bad field."""
    errors = {}
    today = shop_today()
    days = {}
    for name, default in (("from", today - timedelta(days=DEFAULT_DAYS - 1)), ("to", today)):
        raw = args.get(name, "")
        days[name] = default if raw == "" else parse_day(raw)
        if days[name] is None:
            errors[name] = f"'{raw}' is not a date as YYYY-MM-DD in the years {FIRST_YEAR}–{LAST_YEAR}."
            days[name] = default
    first, last = days["from"], days["to"]
    if not errors and last < first:
        errors["to"] = "The range must run forward: 'to' is before 'from'."
    elif not errors and (last - first).days >= MAX_DAYS:
        errors["to"] = f"The range may span at most {MAX_DAYS} days."
    if errors:
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    return first, last, errors


def _short(text: str, size: int = 28) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def dashboard_charts(current: kpis.Summary) -> dict[str, dict]:
    """Chart.js configs for the page (webapp.charts): days against the period before, and three breakdowns."""
    labels = [day.day.strftime("%d %b") for day in current.daily]
    before = {"borderDash": [5, 4], "borderWidth": 1.5}
    orders = charts.line_chart(labels, [
        charts.series("This period", [day.orders for day in current.daily], 0),
        charts.series("Period before", [day.previous_orders for day in current.daily], 5, **before),
    ], y_title="Orders")
    orders["options"]["scales"]["y"]["ticks"] = {"precision": 0}  # whole orders on the axis
    countries = charts.bar_chart([row["country"] or "unknown" for row in current.countries],
                                 [charts.series("Customers", [row["customers"] for row in current.countries], 2)])
    countries["options"]["scales"]["y"]["ticks"] = {"precision": 0}
    return {
        "orders": orders,
        "revenue": charts.line_chart(labels, [
            charts.series("This period", [day.revenue for day in current.daily], 0),
            charts.series("Period before", [day.previous_revenue for day in current.daily], 5, **before),
        ], y_title="Revenue"),
        "channels": charts.doughnut_chart([row["channel"] for row in current.channels],
                                          [row["orders"] for row in current.channels]),
        "products": charts.bar_chart([_short(row["name"]) for row in current.top_products],
                                     [charts.series("Revenue", [Decimal(row["revenue"])
                                                                for row in current.top_products])],
                                     horizontal=True),
        "countries": countries,
    }


@bp.route("")
def dashboard():
    """Key figures for a date range, compared with the period of equal length just before it, with breakdowns,
    charts and what looked unusual."""
    first, last, errors = read_range(request.args)
    current = kpis.summary(first, last, top=TOP)
    previous_first, previous_last = kpis.previous_period(first, last)
    previous = kpis.figures(previous_first, previous_last)
    return render_page("analytics/page.html", "analytics/_figures.html", status=400 if errors else 200,
                       first=first, last=last, previous_first=previous_first, previous_last=previous_last,
                       current=current, previous=previous, figures=FIGURES, errors=errors,
                       unusual=anomalies.unusual(first, last), charts=dashboard_charts(current))


def _figure_rows(first: date, last: date) -> list[list]:
    current, previous = kpis.figures(first, last), kpis.figures(*kpis.previous_period(first, last))
    return [[label, current[key], previous[key]] for key, label, _ in FIGURES + MORE_FIGURES]


def _daily_rows(first: date, last: date) -> list[list]:
    return [[d.day, d.orders, d.revenue, d.previous_day, d.previous_orders, d.previous_revenue]
            for d in kpis.daily_series(first, last)]


def _rows(source, *keys):
    return lambda first, last: [[row[key] for key in keys] for row in source(first, last)]


# The dashboard's tables as CSV: name -> (header, rows of the range).
TABLES = {
    "figures": (["figure", "this period", "period before"], _figure_rows),
    "daily": (["day", "orders", "revenue", "day before", "orders before", "revenue before"], _daily_rows),
    "products": (["sku", "name", "quantity", "revenue"],
                 _rows(lambda f, t: kpis.top_products(f, t, EXPORT_ROWS), "sku", "name", "quantity", "revenue")),
    "channels": (["channel", "orders", "revenue", "share of orders"],
                 _rows(kpis.channel_mix, "channel", "orders", "revenue", "share")),
    "customers": (["customer", "email", "orders", "revenue"],
                  _rows(lambda f, t: kpis.top_customers(f, t, EXPORT_ROWS), "name", "email", "orders", "revenue")),
    "countries": (["country", "customers", "orders", "revenue"],
                  _rows(lambda f, t: kpis.customers_by_country(f, t, EXPORT_ROWS),
                        "country", "customers", "orders", "revenue")),
    "cities": (["city", "country", "customers", "orders"],
               _rows(lambda f, t: kpis.customers_by_city(f, t, EXPORT_ROWS), "city", "country", "customers", "orders")),
    "frequency": (["orders in the range", "customers"], _rows(kpis.order_frequency, "orders", "customers")),
    "unusual_days": (["day", "measure", "actual", "expected", "lower", "upper"],
                     _rows(anomalies.unusual_days, "day", "measure", "actual", "expected", "lower", "upper")),
    "unusual_products": (["sku", "name", "demand shift", "forecast as of"],
                         _rows(lambda f, t: anomalies.shifted_products(EXPORT_ROWS),
                               "sku", "name", "demand_shift", "as_of")),
    "unusual_orders": (["order", "customer", "placed at (UTC)", "total", "usual total", "earlier orders"],
                       _rows(lambda f, t: anomalies.unusual_orders(f, t, EXPORT_ROWS),
                             "number", "customer", "created_at", "total", "usual", "earlier_orders")),
}


@bp.route("/export.csv")
def export():
    """One of the dashboard's tables (``table``) for the range as CSV."""
    first, last, errors = read_range(request.args)
    name = request.args.get("table", "figures")
    if name not in TABLES:
        errors["table"] = f"'{name}' is not a table here; one of: {', '.join(TABLES)}."
    if errors:
        return Response("".join(f"{field}: {message}\n" for field, message in errors.items()), status=400,
                        mimetype="text/plain")
    header, rows = TABLES[name]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(value) for value in row] for row in rows(first, last))
    filename = f"solo-oms-{name}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
