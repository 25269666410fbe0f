"""Customer insight (DESIGN.md §6): lifetime value, order rhythm, preferred products and RFM segments.

Every figure counts the customer's orders except cancelled and rejected ones, as revenue does on the dashboard.

RFM scores, each 1 (worst) to 5 (best), are computed in SQL over all customers who have orders:
- R, recency: the shop-time-zone date of the last order (a later date, i.e. fewer days since, scores higher);
- F, frequency: the number of orders;
- M, monetary: the sum of their totals.

A score is the quintile of the customer's position when customers are lined up from worst to best:
``score = 1 + floor(5 * (p - 0.5) / n)`` for position ``p`` (from 1) of ``n`` customers. Customers with equal values
share the position at the middle of their group, ``p = (first + last) / 2``: NTILE would split a tie between two
scores at random, so two customers with the same history could land in different segments. Without ties, and with
``n`` a multiple of five, this is NTILE(5) (otherwise the odd customers are spread over the scores rather than all
given to the lowest); a tie at the bottom (the many one-order customers) sits in the middle of its group, and when
every customer is alike (a new shop) all score 3.

The segment comes from R and FM, the average of F and M rounded half up (``FM = (F + M + 1) // 2``), by this
table, the usual R × FM grid (after Putler's RFM segments, with "about to sleep" folded into its neighbours):

| R \\ FM | 1           | 2                   | 3                   | 4          | 5          |
| ------- | ----------- | ------------------- | ------------------- | ---------- | ---------- |
| 5       | new         | potential loyalists | potential loyalists | champions  | champions  |
| 4       | promising   | potential loyalists | loyal               | champions  | champions  |
| 3       | promising   | need attention      | need attention      | loyal      | loyal      |
| 2       | hibernating | hibernating         | at risk             | at risk    | can't lose |
| 1       | lost        | lost                | at risk             | can't lose | can't lose |

Customers without such orders are "no orders yet".
"""
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Engine, Select, Subquery, case, cast, event, func, null, select

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order, OrderLine
from webapp.timekeeping import shop_today, shop_zone
from webapp.validation import CENT

NO_ORDERS = "no_orders"
SEGMENTS = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalists": "Potential loyalists",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "at_risk": "At risk",
    "cant_lose": "Can't lose",
    "hibernating": "Hibernating",
    "lost": "Lost",
    NO_ORDERS: "No orders yet",
}
# The table above, row by row: GRID[5 - R][FM - 1].
GRID = (
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    ("promising", "potential_loyalists", "loyal", "champions", "champions"),
    ("promising", "need_attention", "need_attention", "loyal", "loyal"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("lost", "lost", "at_risk", "cant_lose", "cant_lose"),
)


def segment_of(r: int, fm: int) -> str:
    """The segment for an R score and an FM score (both 1–5)."""
    return GRID[5 - r][fm - 1]


def _sqlite_shop_date(stored: str | None, zone: str) -> str | None:
    """The shop date (YYYY-MM-DD) of a UTC time as SQLite stores it; SQLite has no time zones of its own."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()


def install_sqlite_functions(engine: Engine) -> None:
    """Give every SQLite connection the shop_date(utc, zone) function that shop_date() uses."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.create_function("shop_date", 2, _sqlite_shop_date, deterministic=True)


def shop_date(column):
    """The date in the shop's time zone of a naive UTC timestamp column, as an SQL expression."""
    zone = shop_zone().key
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(zone, func.timezone("UTC", column)), Date)
    return func.shop_date(column, zone)


def order_figures() -> Subquery:
    """Per customer with orders: order count, lifetime value, first and last order time."""
    return (select(Order.customer_id,
                   func.count(Order.id).label("orders"),
                   func.sum(Order.total).label("spent"),
                   func.min(Order.created_at).label("first_order_at"),
                   func.max(Order.created_at).label("last_order_at"))
            .where(Order.status.not_in(NOT_SALES)).group_by(Order.customer_id).subquery("order_figures"))


def _score(value):
    """1–5 by quintile of position from worst to best, ties placed at the middle of their group."""
    first = func.rank().over(order_by=value)
    last = func.count().over(order_by=value)  # the default frame runs to the last row equal to this one
    return 1 + (5 * (first + last - 1)) // (2 * func.count().over())


def rfm_scores() -> Subquery:
    """One row per customer with orders: the order figures, R, F and M, and the segment (one SQL query)."""
    figures = order_figures()
    scored = select(figures, _score(shop_date(figures.c.last_order_at)).label("r"),
                    _score(figures.c.orders).label("f"), _score(figures.c.spent).label("m")).subquery("scored")
    fm = (scored.c.f + scored.c.m + 1) // 2
    segment = case({r * 10 + fm_: segment_of(r, fm_) for r in range(1, 6) for fm_ in range(1, 6)},
                   value=scored.c.r * 10 + fm)
    return select(scored, fm.label("fm"), segment.label("segment")).subquery("rfm")


def customer_list(segment: str = "") -> Select:
    """SELECT of (customer, orders, spent, segment) rows for the customer list, all customers or one segment's.

    Without a segment the segment column is left empty, to be filled for the page shown by with_segments(): as
    the inner side of a LEFT JOIN, SQLite scans the scored subquery once per customer (it builds no index on it),
    which takes minutes with tens of thousands of customers.
    """
    if segment and segment != NO_ORDERS:
        rfm = rfm_scores()
        return (select(Customer, rfm.c.orders, rfm.c.spent, rfm.c.segment)
                .join(rfm, rfm.c.customer_id == Customer.id).where(rfm.c.segment == segment))
    figures = order_figures()
    query = (select(Customer, figures.c.orders, figures.c.spent, null().label("segment"))
             .outerjoin(figures, figures.c.customer_id == Customer.id))
    if segment == NO_ORDERS:
        query = query.where(figures.c.customer_id.is_(None))
    return query


def with_segments(rows: list) -> list[tuple]:
    """The rows of customer_list() with every segment filled in, in one query for the lot."""
    wanted = [customer.id for customer, orders, _, segment in rows if segment is None and orders]
    segments = {}
    if wanted:
        rfm = rfm_scores()
        segments = dict(db.session.execute(
            select(rfm.c.customer_id, rfm.c.segment).where(rfm.c.customer_id.in_(wanted))).all())
    return [(customer, orders, spent, segment or segments.get(customer.id, NO_ORDERS))
            for customer, orders, spent, segment in rows]


@dataclass
class PreferredProduct:
    sku: str
    name: str
    units: int
    revenue: Decimal


@dataclass
class CustomerInsight:
    orders: int
    lifetime_value: Decimal
    average_order_value: Decimal | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    typical_days_between_orders: float | None
    r: int | None
    f: int | None
    m: int | None
    segment: str
    preferred_products: list[PreferredProduct]

    @property
    def segment_label(self) -> str:
        return SEGMENTS[self.segment]


def _shop_day(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(shop_zone()).date()


def typical_days_between(order_times: list[datetime]) -> float | None:
    """The median number of days between one order and the next (shop dates), None with fewer than two orders."""
    days = [_shop_day(moment) for moment in sorted(order_times)]
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:])]
    return float(statistics.median(gaps)) if gaps else None


def preferred_products(customer_id: int, top: int = 5) -> list[PreferredProduct]:
    """The customer's most bought products by units (then revenue), with units and revenue."""
    units, revenue = func.sum(OrderLine.quantity), func.sum(OrderLine.line_total)
    rows = db.session.execute(
        select(OrderLine.sku, func.max(OrderLine.name), units, revenue)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, Order.status.not_in(NOT_SALES))
        .group_by(OrderLine.sku).order_by(units.desc(), revenue.desc(), OrderLine.sku).limit(top)
    ).all()
    return [PreferredProduct(sku, name, int(quantity), Decimal(amount).quantize(CENT))
            for sku, name, quantity, amount in rows]


def customer_insight(customer_id: int) -> CustomerInsight:
    """Everything the customer page shows about a customer's buying, in a few queries."""
    rfm = rfm_scores()
    row = db.session.execute(select(rfm).where(rfm.c.customer_id == customer_id)).first()
    if row is None:
        return CustomerInsight(orders=0, lifetime_value=Decimal("0.00"), average_order_value=None,
                               first_order_at=None, last_order_at=None, days_since_last_order=None,
                               typical_days_between_orders=None, r=None, f=None, m=None, segment=NO_ORDERS,
                               preferred_products=[])
    spent = Decimal(row.spent).quantize(CENT)
    # Only this customer's order times, one column: "typical" is a median, which SQLite cannot aggregate.
    times = db.session.scalars(select(Order.created_at).where(
        Order.customer_id == customer_id, Order.status.not_in(NOT_SALES))).all()
    return CustomerInsight(
        orders=row.orders,
        lifetime_value=spent,
        average_order_value=(spent / row.orders).quantize(CENT, rounding=ROUND_HALF_UP),
        first_order_at=row.first_order_at,
        last_order_at=row.last_order_at,
        days_since_last_order=(shop_today() - _shop_day(row.last_order_at)).days,
        typical_days_between_orders=typical_days_between(times),
        r=row.r, f=row.f, m=row.m, segment=row.segment,
        preferred_products=preferred_products(customer_id),
    )

