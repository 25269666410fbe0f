"""What looked unusual (issue 4, item 7): on the dashboard's "Unusual" panel and in the daily digest.

Three kinds, each one query:
- days whose orders or revenue fell outside the forecast interval (rows written by the nightly forecast job);
- products whose demand shifted sharply: units sold in the last 28 days over what the backtest model expected
  (``demand_forecasts.demand_shift``) at least 1.5 or at most 0.67;
- orders far outside their customer's usual size, see ``unusual_orders``.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BigInteger, and_, case, cast, func, or_, select
from sqlalchemy.orm import aliased

from webapp.analytics.kpis import EARNING, cents
from webapp.catalog.models import Product
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.forecasting.models import DemandForecast, SalesAnomaly
from webapp.orders.models import NOT_SALES, Order
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

    The mean, not the median: a count and a total are kept on each order (webapp.orders.earlier_orders), where a
    running median could not be. Where those are not trusted yet (a customer with an order whose figures are not
    worked out, at or before this one) they are worked out live from the customer's history.
    """
    start, end = utc_bounds(first, last)
    in_range = (select(Order.id, Order.number, Order.customer_id, Order.created_at, Order.total,
                       Order.earlier_orders, Order.earlier_total)
                .where(Order.created_at >= start, Order.created_at < end, EARNING).subquery("in_range"))
    r = in_range.c
    # Usually no rows: read from a partial index of the orders not worked out yet.
    unknown = (select(Order.customer_id, func.min(Order.created_at).label("since"))
               .where(Order.earlier_orders.is_(None)).group_by(Order.customer_id).subquery("unknown"))
    trusted = or_(unknown.c.since.is_(None), r.created_at < unknown.c.since)
    h = aliased(Order)
    before = select().where(h.customer_id == r.customer_id, h.status.not_in(NOT_SALES),
                            or_(h.created_at < r.created_at, and_(h.created_at == r.created_at, h.id < r.id)))
    live_count = before.add_columns(func.count(h.id)).scalar_subquery()
    live_total = before.add_columns(func.coalesce(func.sum(h.total), 0)).scalar_subquery()
    earlier = case((trusted, r.earlier_orders), else_=live_count).label("earlier")
    spent = case((trusted, r.earlier_total), else_=live_total).label("spent")
    # Compared in whole cents, without dividing: SQLite's floats would tip an order sitting exactly on 3x either way.
    total_cents, spent_cents = (cast(func.round(money * 100), BigInteger) for money in (r.total, spent))
    rows = db.session.execute(
        select(r.number, Customer.name, r.created_at, r.total, spent, earlier)
        .select_from(in_range).join(Customer, Customer.id == r.customer_id)
        .outerjoin(unknown, unknown.c.customer_id == r.customer_id)
        .where(earlier >= USUAL_AFTER, spent > 0, or_(total_cents * earlier > spent_cents * FACTOR,
                                                      total_cents * earlier * FACTOR < spent_cents))
        .order_by(r.created_at, r.number).limit(limit)
    ).all()
    return [{"number": number, "customer": name, "created_at": created_at, "total": cents(total),
             "usual": cents(spent / earlier), "earlier_orders": earlier,
             "direction": "high" if total * earlier > spent else "low"}
            for number, name, created_at, total, spent, earlier in rows]


def unusual(first: date, last: date) -> Unusual:
    """All three kinds for the range (demand shifts are the latest forecast's, whatever the range)."""
    return Unusual(days=unusual_days(first, last), products=shifted_products(),
                   orders=unusual_orders(first, last))
