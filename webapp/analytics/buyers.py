"""The range's buyers (customers with an order that earns in it), all in one statement, so the range's orders are
grouped by customer once, not once per figure: how many there were and how many came back (ordered before the range
or more than once in it), how many placed 1, 2, 3–5 or 6+ orders, the top ones by revenue, and by country and town.
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, String, case, cast, func, literal_column, null, select, union_all
from sqlalchemy.orm import aliased

from webapp.analytics import daily_sales
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order
from webapp.timekeeping import utc_bounds

# Customers by how many orders they placed in the range: (label, at least, at most).
FREQUENCY_BANDS = (("1", 1, 1), ("2", 2, 2), ("3–5", 3, 5), ("6+", 6, None))


@dataclass
class Buyers:
    customers: int
    repeat: int  # ordered before the range too, or more than once in it
    frequency: list[dict]
    top: list[dict]
    countries: list[dict]
    cities: list[dict]


def _bought(first: date, last: date):
    """Per buyer: orders that earn (``n``), their total (``spent``), whether they came back, and the customer."""
    start, _ = utc_bounds(first, last)
    # Summed from the daily rollup per customer (webapp.analytics.daily_sales), not grouped from the range's orders.
    days = daily_sales.customer_days_of(first, last).c
    per_customer = (select(days.customer_id, func.sum(days.orders).label("n"), func.sum(days.spent).label("spent"))
                    .group_by(days.customer_id).subquery())
    # Ordered before the range: one index seek per buyer (customer_id, created_at), not a scan of history.
    before = aliased(Order)
    ordered_before = (select(before.id).where(before.customer_id == per_customer.c.customer_id,
                                              before.created_at < start, before.status.not_in(NOT_SALES))
                      .exists())
    came_back = case(((per_customer.c.n > 1) | ordered_before, 1), else_=0)
    return (select(per_customer.c.n, per_customer.c.spent, came_back.label("came_back"), Customer.name,
                   Customer.email, Customer.country, Customer.city)
            .join(Customer, Customer.id == per_customer.c.customer_id)
            .cte("bought").prefix_with("MATERIALIZED"))  # read by every part below


def _part(name: str, rank, label, detail, customers, orders, money, group_by=(), limit: int | None = None):
    """One part of the answer, every part in the same columns: (part, rank, label, detail, customers, orders,
    money); ``limit``: its first rows by rank."""
    query = select(literal_column(f"'{name}'").label("part"), rank.label("rank"), cast(label, String).label("label"),
                   cast(detail, String).label("detail"), cast(customers, Integer).label("customers"),
                   orders.label("orders"), money.label("money")).group_by(*group_by)
    if limit is None:
        return query
    ranked = query.subquery()
    return select(*ranked.c).where(ranked.c.rank <= limit)


def buyers(first: date, last: date, top: int = 5, countries: int = 20, cities: int = 10) -> Buyers:
    """The range's buyers: ``top`` customers by revenue, the first ``countries`` countries and ``cities`` towns by
    buyers ("" when unknown, listed last)."""
    b = _bought(first, last).c
    no_rank, no_text, no_count = literal_column("0"), null(), cast(null(), Integer)
    band = case(*[((b.n <= high) if high else (b.n >= low), number) for number, (_, low, high)
                  in enumerate(FREQUENCY_BANDS)])
    buyers_count = func.count()
    town = func.lower(func.trim(b.city))
    parts = [
        _part("all", no_rank, no_text, no_text, buyers_count, func.sum(b.came_back), cast(null(), b.spent.type)),
        _part("band", band, no_text, no_text, buyers_count, no_count, cast(null(), b.spent.type), group_by=[band]),
        _part("top", func.row_number().over(order_by=(b.spent.desc(), b.n.desc(), b.name)), b.name, b.email,
              no_count, b.n, b.spent, limit=top),
        # Grouped on plain columns: PostgreSQL does not see two bound parameters as the same GROUP BY expression.
        _part("country", func.row_number().over(order_by=(buyers_count.desc(), b.country.is_(None), b.country)),
              b.country, no_text, buyers_count, func.sum(b.n), func.sum(b.spent), limit=countries,
              group_by=[b.country]),
        _part("city", func.row_number().over(order_by=(buyers_count.desc(), town.is_(None), town,
                                                       b.country.is_(None), b.country)),
              func.min(b.city), b.country, buyers_count, func.sum(b.n), cast(null(), b.spent.type), limit=cities,
              group_by=[town, b.country]),
    ]
    rows: dict[str, list] = {}
    for row in db.session.execute(union_all(*parts)):
        rows.setdefault(row.part, []).append(row)
    for found in rows.values():
        found.sort(key=lambda row: row.rank)
    total = rows["all"][0]
    bands = {row.rank: row.customers for row in rows.get("band", [])}
    return Buyers(
        customers=total.customers, repeat=int(total.orders or 0),
        frequency=[{"orders": label, "customers": bands.get(number, 0)}
                   for number, (label, _, _) in enumerate(FREQUENCY_BANDS)],
        top=[{"name": row.label, "email": row.detail, "orders": int(row.orders), "revenue": _money(row.money)}
             for row in rows.get("top", [])],
        countries=[{"country": row.label or "", "customers": row.customers, "orders": int(row.orders),
                    "revenue": _money(row.money)} for row in rows.get("country", [])],
        cities=[{"city": (row.label or "").strip(), "country": row.detail or "", "customers": row.customers,
                 "orders": int(row.orders)} for row in rows.get("city", [])],
    )


def _money(value) -> str:
    """An SQL sum as money (a float from SQLite, a Decimal from PostgreSQL), as kpis.cents."""
    return f"{Decimal(value or 0).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"
