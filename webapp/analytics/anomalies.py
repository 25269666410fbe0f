"""What looked unusual (issue 4, item 7): on the dashboard's "Unusual" panel and in the daily digest.

Three kinds, each one query:
- days whose orders or revenue fell outside the forecast interval (rows written by the nightly forecast job);
- products whose demand shifted sharply: units sold in the last 28 days over what the backtest model expected
  (``demand_forecasts.demand_shift``) at least 1.5 or at most 0.67;
- orders far outside their customer's usual size, see ``unusual_orders``.
"""
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import BigInteger, Integer, and_, bindparam, cast, func, or_, select, text, union_all
from sqlalchemy.orm import aliased

from webapp.analytics.kpis import EARNING, cents
from webapp.catalog.models import Product
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.forecasting.models import DemandForecast, SalesAnomaly
from webapp.orders.models import NOT_SALES, UNUSUAL_BY_STORED_FIGURES, UNUSUAL_FACTOR, USUAL_AFTER, Order
from webapp.timekeeping import utc_bounds

SHIFT_UP = 1.5
SHIFT_DOWN = 0.67
# An order is unusual when its total is more than FACTOR times its customer's usual order, or less than 1/FACTOR,
# judged only for customers with at least USUAL_AFTER earlier orders (both kept with the partial index's predicate).
FACTOR = UNUSUAL_FACTOR


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
    running median could not be. Where those are trusted, the orders they mark unusual are read from a partial index
    of those few (ix_orders_unusual), not tested one by one over the range. Where they are not trusted yet (a customer
    with an order whose figures are not worked out, at or before this one) they are worked out live from the
    customer's history.
    """
    start, end = utc_bounds(first, last)
    rows = db.session.execute(_unusual_orders_query(), {"start": start, "end": end, "limit": limit}).all()
    return [{"number": number, "customer": name, "created_at": created_at, "total": cents(total),
             "usual": cents(spent / earlier), "earlier_orders": earlier,
             "direction": "high" if total * earlier > spent else "low"}
            for number, name, created_at, total, spent, earlier in rows]


@cache
def _unusual_orders_query():
    """The statement of ``unusual_orders``, for the parameters ``start``, ``end`` and ``limit``: built once per process
    (building it took longer than running it)."""
    start, end = bindparam("start"), bindparam("end")
    # Usually no rows: read from a partial index of the orders not worked out yet.
    unknown = (select(Order.customer_id, func.min(Order.created_at).label("since"))
               .where(Order.earlier_orders.is_(None)).group_by(Order.customer_id).subquery("unknown"))
    # The predicate word for word, so that PostgreSQL and SQLite both see the partial index answers it.
    by_stored_figures = (
        select(Order.id, Order.number, Order.customer_id, Order.created_at, Order.total,
               Order.earlier_total.label("spent"), Order.earlier_orders.label("earlier"))
        .outerjoin(unknown, unknown.c.customer_id == Order.customer_id)
        .where(Order.created_at >= start, Order.created_at < end, EARNING, text(UNUSUAL_BY_STORED_FIGURES),
               or_(unknown.c.since.is_(None), Order.created_at < unknown.c.since)))
    o = aliased(Order)
    h = aliased(Order)
    before = select().where(h.customer_id == o.customer_id, h.status.not_in(NOT_SALES),
                            or_(h.created_at < o.created_at, and_(h.created_at == o.created_at, h.id < o.id)))
    earlier = before.add_columns(func.count(h.id)).scalar_subquery()
    spent = before.add_columns(func.coalesce(func.sum(h.total), 0)).scalar_subquery()
    worked_out_live = (
        select(o.id, o.number, o.customer_id, o.created_at, o.total, spent.label("spent"), earlier.label("earlier"))
        .join(unknown, unknown.c.customer_id == o.customer_id)
        .where(o.created_at >= start, o.created_at < end, o.status.not_in(NOT_SALES), o.created_at >= unknown.c.since)
        .subquery("worked_out_live"))
    w = worked_out_live.c
    # Compared in whole cents, without dividing: SQLite's floats would tip an order sitting exactly on 3x either way.
    total_cents, spent_cents = (cast(func.round(money * 100), BigInteger) for money in (w.total, w.spent))
    live = select(*w).where(w.earlier >= USUAL_AFTER, w.spent > 0, or_(total_cents * w.earlier > spent_cents * FACTOR,
                                                                       total_cents * w.earlier * FACTOR < spent_cents))
    # The first ones picked before their customers are looked up; ordered as a whole, so that SQLite merges the two
    # parts as it walks the partial index in order, and stops at the limit.
    found = union_all(by_stored_figures, live)
    placed, number = found.selected_columns.created_at, found.selected_columns.number
    first_found = found.order_by(placed, number).limit(bindparam("limit", type_=Integer)).subquery("first_found")
    r = first_found.c
    return (select(r.number, Customer.name, r.created_at, r.total, r.spent, r.earlier)
            .select_from(first_found).join(Customer, Customer.id == r.customer_id)
            .order_by(r.created_at, r.number))


def unusual(first: date, last: date) -> Unusual:
    """All three kinds for the range (demand shifts are the latest forecast's, whatever the range)."""
    return Unusual(days=unusual_days(first, last), products=shifted_products(),
                   orders=unusual_orders(first, last))
