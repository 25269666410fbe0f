"""Sales figures over the API."""
from datetime import date

from flask import request

from webapp.analytics.kpis import summary
from webapp.api import bp, requires_scope
from webapp.api.params import BadInput

MAX_DAYS = 3660


def _day(name: str) -> date:
    raw = request.args.get(name, "")
    try:
        if len(raw) == 10:  # YYYY-MM-DD only (fromisoformat also takes other forms)
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise BadInput({name: ["must be a date as YYYY-MM-DD"]})


@bp.get("/analytics/summary")
@requires_scope("orders:read")
def analytics_summary():
    """Orders, revenue, average order value, processing time, completion, cancellation and repeat-customer rates,
    and top products for the days ``from`` to ``to`` (inclusive, shop time)."""
    first, last = _day("from"), _day("to")
    if last < first:
        raise BadInput({"to": ["must not be before from"]})
    if (last - first).days > MAX_DAYS:
        raise BadInput({"to": [f"the range may span at most {MAX_DAYS} days"]})
    result = summary(first, last)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "orders": result.orders,
        "revenue": f"{result.revenue:.2f}", "aov": f"{result.aov:.2f}", "t_avg_hours": result.t_avg_hours,
        "completion_rate": result.completion_rate, "cancellation_rate": result.cancellation_rate,
        "repeat_customer_rate": result.repeat_customer_rate, "top_products": result.top_products,
    }
