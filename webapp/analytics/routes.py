"""The dashboard: the key figures of a date range beside the previous period of equal length, and CSV export."""
import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, request

from webapp.analytics.kpis import summary
from webapp.timekeeping import shop_today
from webapp.views import render_page

bp = Blueprint("analytics", __name__, url_prefix="/dashboard")
MAX_DAYS = 3660
FIGURES = (("orders", "Orders"), ("revenue", "Revenue"), ("aov", "Average order"), ("t_avg_hours", "Hours to ship"),
           ("completion_rate", "Completion rate"), ("cancellation_rate", "Cancellation rate"),
           ("repeat_customer_rate", "Repeat customers"))


def read_range(args) -> tuple[date, date, list[str]]:
    """The range from the query string (default: the last 30 days), with errors naming the bad field."""
    errors = []
    today = shop_today()
    days = {}
    for name, default in (("from", today - timedelta(days=29)), ("to", today)):
        raw = args.get(name, "")
        try:
            days[name] = date.fromisoformat(raw) if len(raw) == 10 else (default if raw == "" else None)
        except ValueError:
            days[name] = None
        if days[name] is None:
            errors.append(f"'{raw}' is not a date as YYYY-MM-DD ({name}).")
            days[name] = default
    first, last = days["from"], days["to"]
    if last < first or (last - first).days > MAX_DAYS:
        errors.append("The range must run forward and span at most ten years.")
        first, last = today - timedelta(days=29), today
    return first, last, errors


@bp.route("")
def dashboard():
    """Key figures for a date range, compared with the period of equal length just before it."""
    first, last, errors = read_range(request.args)
    length = (last - first).days + 1
    current = summary(first, last, top=10)
    previous = summary(first - timedelta(days=length), first - timedelta(days=1), top=10)
    return render_page("analytics/page.html", "analytics/_figures.html", status=400 if errors else 200,
                       first=first, last=last, current=current, previous=previous, figures=FIGURES, errors=errors)


@bp.route("/export.csv")
def export():
    """The figures and top products of the range as CSV."""
    first, last, errors = read_range(request.args)
    if errors:
        return Response("\n".join(errors) + "\n", status=400, mimetype="text/plain")
    current = summary(first, last, top=50)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value"])
    for key, label in FIGURES:
        writer.writerow([label, getattr(current, key)])
    writer.writerow([])
    writer.writerow(["sku", "name", "quantity", "revenue"])
    for product in current.top_products:
        writer.writerow([product["sku"], product["name"], product["quantity"], product["revenue"]])
    filename = f"solo-oms-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
