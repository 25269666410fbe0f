"""Sales figures over the API."""
from datetime import date

from flask import request

from webapp.analytics.anomalies import unusual
from webapp.analytics.kpis import summary
from webapp.api import bp, requires_scope
from webapp.api.params import BadInput
from webapp.api.serializers import timestamp
from webapp.validation import FIRST_YEAR, LAST_YEAR, parse_day

MAX_DAYS = 3660


def _day(name: str) -> date:
    day = parse_day(request.args.get(name, ""))
    if day is None:
        raise BadInput({name: [f"must be a date as YYYY-MM-DD, in the years {FIRST_YEAR}-{LAST_YEAR}"]})
    return day


@bp.get("/analytics/summary")
@requires_scope("orders:read")
def analytics_summary():
    """Orders, revenue, average order value, processing time (mean and median), completion, cancellation, return and
    repeat-customer rates, gross margin, satisfaction, top products and customers, channel mix, customers by country
    and town, order frequency, orders and revenue per day beside the period before, and what looked unusual, for the
    days ``from`` to ``to`` (inclusive, shop time)."""
    first, last = _day("from"), _day("to")
    if last < first:
        raise BadInput({"to": ["must not be before from"]})
    if (last - first).days >= MAX_DAYS:
        raise BadInput({"to": [f"the range may span at most {MAX_DAYS} days"]})
    result = summary(first, last)
    odd = unusual(first, last)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "orders": result.orders,
        "revenue": f"{result.revenue:.2f}", "aov": f"{result.aov:.2f}", "t_avg_hours": result.t_avg_hours,
        "t_median_hours": result.t_median_hours,
        "completion_rate": result.completion_rate, "cancellation_rate": result.cancellation_rate,
        "return_rate": result.return_rate, "repeat_customer_rate": result.repeat_customer_rate,
        "top_products": result.top_products,
        "gross_margin": {"margin": f"{result.gross_margin:.2f}", "margin_rate": result.margin_rate,
                         "costed_revenue": f"{result.costed_revenue:.2f}", "cost_coverage": result.cost_coverage},
        "satisfaction": {"average_rating": result.average_rating, "ratings": result.ratings},
        "channels": result.channels,
        "top_customers": result.top_customers,
        "countries": result.countries,
        "cities": result.cities,
        "frequency": {"customers_by_orders": result.frequency,
                      "median_days_between_orders": result.days_between_orders},
        "daily": [{"date": day.day.isoformat(), "orders": day.orders, "revenue": f"{day.revenue:.2f}",
                   "previous_date": day.previous_day.isoformat(), "previous_orders": day.previous_orders,
                   "previous_revenue": f"{day.previous_revenue:.2f}"} for day in result.daily],
        "unusual": {
            "days": [{**row, "day": row["day"].isoformat()} for row in odd.days],
            "products": [{**row, "as_of": row["as_of"].isoformat()} for row in odd.products],
            "orders": [{"number": row["number"], "customer": row["customer"],
                        "created_at": timestamp(row["created_at"]), "total": f"{row['total']:.2f}",
                        "usual_total": f"{row['usual']:.2f}", "earlier_orders": row["earlier_orders"],
                        "direction": row["direction"]} for row in odd.orders],
        },
    }
