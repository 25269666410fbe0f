"""What looked unusual (issue 4, item 7): on the dashboard's "Unusual" panel and in the daily digest.

Three kinds, each one query:
- days whose orders or revenue fell outside the forecast interval (rows written by the nightly forecast job);
- products whose demand shifted sharply: units sold in the last 28 days over what the backtest model expected
  (``demand_forecasts.demand_shift``) at least 1.5 or at most 0.67;
- orders far outside their customer's usual size, see ``unusual_orders``.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select

from webapp.analytics.kpis import EARNING, cents
from webapp.catalog.models import Product
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.forecasting.models import DemandForecast, SalesAnomaly
from webapp.orders.models import Order
from webapp.timekeeping import utc_bounds

SHIFT_UP = 1.5
SHIFT_DOWN = 0.67
# An order is unusual when its total is more than FACTOR times its customer's usual order, or less than 1/FACTOR,
# judged only for customers with at least USUAL_AFTER earlier orders.
FACTOR = 3
USUAL_AFTER = 3


@dataclass
class Unusual:
    days: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.days or self.products or self.orders)


def unusual_days(first: date, last: date) -> list[dict]:
    """Days in the range whose orders or revenue fell outside the forecast interval, oldest first."""
    rows = db.session.scalars(
        select(SalesAnomaly).where(SalesAnomaly.day >= first, SalesAnomaly.day <= last)
        .order_by(SalesAnomaly.day, SalesAnomaly.measure)
    ).all()
    return [{"day": row.day, "measure": row.measure, "actual": row.actual, "expected": row.expected,
             "lower": row.lower, "upper": row.upper, "direction": "high" if row.actual > row.upper else "low"}
            for row in rows]


def shifted_products(limit: int = 50) -> list[dict]:
    """Active products whose latest forecast saw demand shift sharply, the largest rises first, then the falls."""
    shift = DemandForecast.demand_shift
    rows = db.session.execute(
        select(Product.sku, Product.name, shift, DemandForecast.as_of)
        .join(Product, Product.id == DemandForecast.product_id)
        .where(Product.active.is_(True), or_(shift >= SHIFT_UP, shift <= SHIFT_DOWN))
        .order_by(shift.desc(), Product.sku).limit(limit)
    ).all()
    return [{"sku": sku, "name": name, "demand_shift": round(value, 2), "as_of": as_of,
             "direction": "up" if value >= SHIFT_UP else "down"} for sku, name, value, as_of in rows]


def unusual_orders(first: date, last: date, limit: int = 50) -> list[dict]:
    """Orders in the range whose total is more than 3x, or less than a third of, the MEAN total of the same
    customer's earlier orders, for customers with at least 3 earlier orders (cancelled and rejected ones left out
    on both sides).

    The mean, not the median: a running count and sum are window functions that SQLite and PostgreSQL both have,
    where a running median is not.
    """
    start, end = utc_bounds(first, last)
    # The range's own orders, with a running count and sum of the same customer's earlier orders in the range.
    before_each = {"partition_by": Order.customer_id, "order_by": (Order.created_at, Order.id), "rows": (None, -1)}
    in_range = (
        select(Order.number, Order.customer_id, Order.created_at, Order.total,
               func.count(Order.id).over(**before_each).label("n"),
               func.sum(Order.total).over(**before_each).label("s"))
        .where(Order.created_at >= start, Order.created_at < end, EARNING).cte("in_range")
    )  # a CTE: read once, though used twice
    # Their history before the range, summed per customer straight from the (customer_id, created_at, status,
    # total) index: no sort, no table rows, however long the shop's history.
    prior = (
        select(Order.customer_id, func.count(Order.id).label("n"), func.sum(Order.total).label("s"))
        .where(Order.created_at < start, EARNING, Order.customer_id.in_(select(in_range.c.customer_id)))
        .group_by(Order.customer_id).subquery()
    )
    r = in_range.c
    earlier = (func.coalesce(prior.c.n, 0) + r.n).label("earlier")
    usual = ((func.coalesce(prior.c.s, 0) + func.coalesce(r.s, 0)) / earlier).label("usual")
    rows = db.session.execute(
        select(r.number, Customer.name, r.created_at, r.total, usual, earlier)
        .select_from(in_range).join(Customer, Customer.id == r.customer_id)
        .outerjoin(prior, prior.c.customer_id == r.customer_id)
        .where(earlier >= USUAL_AFTER, usual > 0, or_(r.total > usual * FACTOR, r.total * FACTOR < usual))
        .order_by(r.created_at, r.number).limit(limit)
    ).all()
    return [{"number": number, "customer": name, "created_at": created_at, "total": cents(total),
             "usual": cents(usual), "earlier_orders": earlier, "direction": "high" if total > usual else "low"}
            for number, name, created_at, total, usual, earlier in rows]


def unusual(first: date, last: date) -> Unusual:
    """All three kinds for the range (demand shifts are the latest forecast's, whatever the range)."""
    return Unusual(days=unusual_days(first, last), products=shifted_products(),
                   orders=unusual_orders(first, last))
