"""The shop's key figures for a date range (DESIGN.md §6), each one SQL aggregate, never orders loaded into Python.

Orders count by their order date in the shop's time zone; revenue leaves out cancelled and rejected orders.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, select

from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.timekeeping import shop_zone

NOT_REVENUE = ("cancelled", "rejected")
CENT = Decimal("0.01")


@dataclass
class Summary:
    orders: int
    revenue: Decimal
    aov: Decimal
    t_avg_hours: float | None
    completion_rate: float | None
    cancellation_rate: float | None
    repeat_customer_rate: float | None
    top_products: list[dict]

    def __getitem__(self, key: str):
        return getattr(self, key)


def utc_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the shop's zone, as naive UTC."""
    zone = shop_zone()

    def start(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start(first), start(last + timedelta(days=1))


def _hours_between(later, earlier):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summary(first: date, last: date, top: int = 5) -> Summary:
    start, end = utc_range(first, last)
    in_range = and_(Order.created_at >= start, Order.created_at < end)
    earning = Order.status.not_in(NOT_REVENUE)
    row = db.session.execute(select(
        func.count(Order.id),
        func.coalesce(func.sum(case((earning, Order.total))), 0),
        func.count(case((earning, Order.id))),
        func.avg(case((Order.shipped_at.is_not(None), _hours_between(Order.shipped_at, Order.created_at)))),
        func.count(case((Order.status == "delivered", Order.id))),
        func.count(case((Order.status != "pending", Order.id))),
        func.count(case((Order.status == "cancelled", Order.id))),
    ).where(in_range)).one()
    orders, revenue, earning_orders, t_avg, delivered, left_pending, cancelled = row
    revenue = Decimal(revenue).quantize(CENT)

    per_customer = (select(Order.customer_id, func.count(Order.id).label("n"))
                    .where(in_range, earning).group_by(Order.customer_id).subquery())
    earlier = (select(Order.customer_id).where(Order.created_at < start, earning)
               .distinct().subquery())
    customers, repeat = db.session.execute(select(
        func.count(per_customer.c.customer_id),
        func.count(case(((per_customer.c.n > 1) | per_customer.c.customer_id.in_(select(earlier.c.customer_id)),
                         per_customer.c.customer_id))),
    )).one()

    products = db.session.execute(
        select(OrderLine.sku, func.max(OrderLine.name), func.sum(OrderLine.quantity), func.sum(OrderLine.line_total))
        .join(Order, Order.id == OrderLine.order_id).where(in_range, earning)
        .group_by(OrderLine.sku).order_by(func.sum(OrderLine.line_total).desc(), OrderLine.sku).limit(top)
    ).all()
    return Summary(
        orders=orders,
        revenue=revenue,
        aov=(revenue / earning_orders).quantize(CENT, rounding=ROUND_HALF_UP) if earning_orders else Decimal("0.00"),
        t_avg_hours=round(float(t_avg), 2) if t_avg is not None else None,
        completion_rate=_ratio(delivered, left_pending),
        cancellation_rate=_ratio(cancelled, orders),
        repeat_customer_rate=_ratio(repeat, customers),
        top_products=[{"sku": sku, "name": name, "quantity": int(quantity),
                       "revenue": f"{Decimal(amount).quantize(CENT):.2f}"} for sku, name, quantity, amount in products],
    )
