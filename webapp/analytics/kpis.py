"""The shop's key figures for a date range (DESIGN.md §6), each one SQL aggregate, never orders loaded into Python.

Orders count by their order date in the shop's time zone; revenue leaves out cancelled and rejected orders, and so
do the per-customer figures (a cancelled order is not a purchase). Every function here runs a fixed number of
queries, whatever the number of orders. The counts and sums per day and per product are read from the daily rollups
(webapp.analytics.daily_sales), which are exact however recently the orders changed.
"""
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, select

from webapp.analytics import daily_sales
from webapp.analytics.buyers import FREQUENCY_BANDS, Buyers, buyers  # noqa: F401 - FREQUENCY_BANDS read here
from webapp.analytics.medians import median, median_in_order, unindexed
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.orders.models import NOT_SALES, Order
from webapp.timekeeping import hours_between_sql, utc_bounds

NOT_REVENUE = NOT_SALES
CENT = Decimal("0.01")


@dataclass
class Figures:
    """The figures that are compared with the previous period."""

    orders: int
    revenue: Decimal
    aov: Decimal
    t_avg_hours: float | None
    t_median_hours: float | None
    completion_rate: float | None
    cancellation_rate: float | None
    return_rate: float | None
    repeat_customer_rate: float | None
    # Gross margin over the lines whose product has a unit cost (today's cost: costs are not kept per sale).
    gross_margin: Decimal
    margin_rate: float | None  # gross_margin / costed_revenue
    costed_revenue: Decimal
    cost_coverage: float | None  # costed_revenue / all line revenue: how much of the sales the margin covers
    days_between_orders: float | None  # median days between consecutive orders of a customer in the range
    average_rating: float | None
    ratings: int

    def __getitem__(self, key: str):
        return getattr(self, key)


@dataclass
class Day:
    """One day of the range beside the day at the same offset in the previous period."""

    day: date
    orders: int
    revenue: Decimal
    previous_day: date
    previous_orders: int
    previous_revenue: Decimal


@dataclass
class Summary(Figures):
    top_products: list[dict] = field(default_factory=list)
    channels: list[dict] = field(default_factory=list)
    top_customers: list[dict] = field(default_factory=list)
    countries: list[dict] = field(default_factory=list)
    cities: list[dict] = field(default_factory=list)
    frequency: list[dict] = field(default_factory=list)
    daily: list[Day] = field(default_factory=list)


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of equal length that ends the day before ``first``."""
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def cents(value) -> Decimal:
    """An SQL sum or mean as money (None, a float from SQLite or a Decimal from PostgreSQL)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _rounded(value, places: int = 2) -> float | None:
    return round(float(value), places) if value is not None else None


def ordered_in(first: date, last: date):
    """SQL: the order was placed on one of the days ``first`` to ``last`` in shop time."""
    start, end = utc_bounds(first, last)
    return and_(Order.created_at >= start, Order.created_at < end)


EARNING = Order.status.not_in(NOT_REVENUE)


def figures(first: date, last: date, sold: list["ProductSales"] | None = None, bought: Buyers | None = None) -> Figures:
    """The comparable figures of the days ``first`` to ``last`` (inclusive, shop time), in four queries; ``sold``
    and ``bought``: the range's product_sales and buyers if already read."""
    start, end = utc_bounds(first, last)
    in_range = ordered_in(first, last)
    days = daily_sales.days_of(first, last).c
    totals = db.session.execute(select(*[func.coalesce(func.sum(days[name]), 0) for name in daily_sales.FIGURES])).one()
    (orders, earning_orders, revenue, shipped, hours, unknown_hours, delivered, left_pending, cancelled, returned,
     shipped_or_later) = (value if name in ("revenue", "hours_to_ship") else int(value)
                          for name, value in zip(daily_sales.FIGURES, totals))
    revenue = cents(revenue)
    t_avg = float(hours) / shipped if shipped else None

    bought = buyers(first, last) if bought is None else bought
    customers, repeat = bought.customers, bought.repeat

    sold = product_sales(first, last) if sold is None else sold
    line_revenue = sum((row.revenue for row in sold), Decimal(0)) if sold else None
    costed = [row for row in sold if row.unit_cost is not None]
    costed_revenue = cents(sum((row.revenue for row in costed), Decimal(0)))
    cost = cents(sum((row.units * row.unit_cost for row in costed), Decimal(0)))
    margin = costed_revenue - cost

    # The medians and the ratings, as scalar subqueries of one statement. Each median reads the stored values in
    # order, unless an order of the range lacks its stored value (written by a path that bypassed the ORM): then
    # the values are worked out and sorted, as before they were stored.
    shipping_hours = (select(hours_between_sql(Order.shipped_at, Order.created_at).label("value"))
                      .where(in_range, Order.shipped_at.is_not(None)))
    # Stored for every shipped order (the rollups say if not), so as many as the rollups' shipped orders.
    t_median = (median(shipping_hours) if unknown_hours
                else median_in_order(Order.hours_to_ship, start, end, count=shipped))
    # Gaps between consecutive orders of a customer, both in the range (a window over the range's orders only:
    # looking back before the range would walk each customer's whole history, seconds on a big shop).
    # Ordered by time alone, so SQLite reads the (customer_id, created_at) index in order instead of sorting; orders
    # placed at the same instant give the same gaps in either order.
    previous_at = func.lag(Order.created_at).over(partition_by=Order.customer_id, order_by=Order.created_at)
    pairs = select(Order.created_at.label("at"), previous_at.label("previous_at")).where(in_range, EARNING).subquery()
    gap_days = (select((hours_between_sql(pairs.c.at, pairs.c.previous_at) / 24.0).label("value"))
                .where(pairs.c.previous_at.is_not(None)))
    # Stored: the days since the customer's previous order that earns, when that one is in the range too: every
    # earning order of the range but each buyer's first there, so as many as those orders less the buyers.
    gaps_untrusted = select(Order.id).where(Order.earlier_orders.is_(None), Order.created_at < end).exists()
    gap_median = case((gaps_untrusted, median(gap_days)), else_=median_in_order(
        Order.days_since_previous_order, start, end, unindexed(Order.previous_order_at) >= start, EARNING,
        count=earning_orders - customers))
    # Ratings read from their own few rows, each order looked up by id, not the range's orders searched for them.
    rated_order = select(Order.id).where(Order.id == OrderFeedback.order_id, in_range).exists()
    rated = select(OrderFeedback.rating).where(rated_order).subquery()
    t_median, gap_median, rating, ratings = db.session.execute(select(
        t_median, gap_median,
        select(func.avg(rated.c.rating)).scalar_subquery(), select(func.count()).select_from(rated).scalar_subquery(),
    )).one()

    return Figures(
        orders=orders,
        revenue=revenue,
        aov=(revenue / earning_orders).quantize(CENT, rounding=ROUND_HALF_UP) if earning_orders else Decimal("0.00"),
        t_avg_hours=_rounded(t_avg),
        t_median_hours=_rounded(t_median),
        completion_rate=_ratio(delivered, left_pending),
        cancellation_rate=_ratio(cancelled, orders),
        return_rate=_ratio(returned, shipped_or_later),
        repeat_customer_rate=_ratio(repeat, customers),
        gross_margin=margin,
        margin_rate=round(float(margin / costed_revenue), 4) if costed_revenue else None,
        costed_revenue=costed_revenue,
        cost_coverage=round(float(costed_revenue / cents(line_revenue)), 4) if line_revenue else None,
        days_between_orders=_rounded(gap_median, 1),
        average_rating=_rounded(rating),
        ratings=ratings,
    )


@dataclass
class ProductSales:
    """Units and revenue of one SKU sold as one product (None: no product) in orders that earn."""

    sku: str
    name: str  # the SKU's greatest line name in the range, over all its products
    product_id: int | None
    unit_cost: Decimal | None  # today's cost: costs are not kept per sale
    units: int
    revenue: Decimal


def product_sales(first: date, last: date) -> list[ProductSales]:
    """What sold in the range, per SKU and product: one pass over the range's lines, which the margin and top
    products both read (``summary`` hands the one pass to both)."""
    days = daily_sales.product_days_of(first, last).c
    grouped = (select(days.sku, days.product_id, func.max(days.name).label("name"),
                      func.sum(days.units).label("units"), func.sum(days.revenue).label("revenue"))
               .group_by(days.sku, days.product_id).subquery())
    # Costs joined to the few grouped rows, not to every line; the name by the database's own ordering.
    rows = db.session.execute(
        select(grouped.c.sku, func.max(grouped.c.name).over(partition_by=grouped.c.sku), grouped.c.product_id,
               Product.unit_cost, grouped.c.units, grouped.c.revenue)
        .outerjoin(Product, Product.id == grouped.c.product_id)
    ).all()
    return [ProductSales(sku, name, product_id, unit_cost, int(units), cents(revenue))
            for sku, name, product_id, unit_cost, units, revenue in rows]


def top_products(first: date, last: date, limit: int = 5, sold: list[ProductSales] | None = None) -> list[dict]:
    """Products by revenue (units and revenue of orders that earn); ``sold``: the range's product_sales if read."""
    by_sku: dict[str, list] = {}
    for row in product_sales(first, last) if sold is None else sold:
        entry = by_sku.setdefault(row.sku, [row.name, 0, Decimal(0)])
        entry[1] += row.units
        entry[2] += row.revenue
    ranked = sorted(by_sku.items(), key=lambda item: (-item[1][2], item[0]))[:limit]
    return [{"sku": sku, "name": name, "quantity": units, "revenue": f"{revenue:.2f}"}
            for sku, (name, units, revenue) in ranked]


def channel_mix(first: date, last: date) -> list[dict]:
    """Orders received and revenue per channel, most orders first; shares of all orders in the range."""
    days = daily_sales.days_of(first, last).c
    orders = func.sum(days.orders)
    rows = db.session.execute(
        select(days.channel, orders, func.coalesce(func.sum(days.revenue), 0))
        .group_by(days.channel).order_by(orders.desc(), days.channel)
    ).all()
    rows = [(channel, int(orders), revenue) for channel, orders, revenue in rows]
    total = sum(orders for _, orders, _ in rows)
    return [{"channel": channel, "orders": orders, "revenue": f"{cents(revenue):.2f}",
             "share": _ratio(orders, total)} for channel, orders, revenue in rows]


def top_customers(first: date, last: date, limit: int = 10) -> list[dict]:
    """Customers by revenue, with their orders that earn."""
    return buyers(first, last, top=limit).top


def customers_by_country(first: date, last: date, limit: int = 20) -> list[dict]:
    """Customers who bought in the range, by the country on their customer record ("" when unknown, listed last)."""
    return buyers(first, last, countries=limit).countries


def customers_by_city(first: date, last: date, limit: int = 10) -> list[dict]:
    """Customers who bought in the range, by town (spelt in any case) within their country."""
    return buyers(first, last, cities=limit).cities


def order_frequency(first: date, last: date) -> list[dict]:
    """Customers by how many orders they placed in the range (1, 2, 3–5, 6+)."""
    return buyers(first, last).frequency


def daily_series(first: date, last: date) -> list[Day]:
    """Orders and revenue per day of the range (no orders: zero), each beside the same day of the previous period,
    in one query over both periods."""
    before_first, _ = previous_period(first, last)
    days = daily_sales.days_of(before_first, last).c
    rows = db.session.execute(
        select(days.shop_day, func.sum(days.orders), func.sum(days.revenue)).group_by(days.shop_day)
    ).all()
    totals = {(value if isinstance(value, date) else date.fromisoformat(value)): (int(orders), cents(amount))
              for value, orders, amount in rows}
    length = (last - first).days + 1
    series = []
    for offset in range(length):
        this, then = first + timedelta(days=offset), before_first + timedelta(days=offset)
        orders, revenue = totals.get(this, (0, cents(0)))
        previous_orders, previous_revenue = totals.get(then, (0, cents(0)))
        series.append(Day(this, orders, revenue, then, previous_orders, previous_revenue))
    return series


def summary(first: date, last: date, top: int = 5) -> Summary:
    """Every figure and breakdown of the range (for the API and the dashboard)."""
    with daily_sales.one_look():
        sold = product_sales(first, last)
        bought = buyers(first, last, top=top)
        return Summary(
            **asdict(figures(first, last, sold, bought)),
            top_products=top_products(first, last, top, sold),
            channels=channel_mix(first, last),
            top_customers=bought.top,
            countries=bought.countries,
            cities=bought.cities,
            frequency=bought.frequency,
            daily=daily_series(first, last),
        )
