"""The dashboard's daily rollups (webapp.analytics.models): per shop day and channel, the orders' counts and sums; per
shop day and product, the units and revenue sold; per shop day and customer, the orders bought and their totals. A
year's figures then sum some 2,000, 70,000 and 70,000 stored rows instead of passing over 170,000 orders and 500,000
lines.

The rollups are a cache, never the only truth. Database triggers (see the migration that added them) note the shop
day of every order or line written, by the ORM or in bulk, in ``sales_days_changed``; a read takes the stored rows of
the days not noted and works out the noted days (and any order without a shop day yet) live from the orders, with
the same SQL the rebuild stores, so the answer is exact whether or not the rebuild has run. ``rebuild_changed_days``
(every minute in the worker, see worker.schedule) stores the noted days again and forgets them: it forgets exactly
the notes it read, so a day noted by a transaction that committed meanwhile is rebuilt next time.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from sqlalchemy import Integer, and_, case, cast, delete, func, insert, literal, or_, select, union_all

from webapp.analytics.models import DailyCustomerSales, DailyProductSales, DailySales, SalesDayChanged
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, SHIPPED_OR_LATER, Order, OrderLine
from webapp.orders.shop_days import fill_shop_days
from webapp.timekeeping import hours_between_sql, shop_day_sql, utc_bounds

EARNING = Order.status.not_in(NOT_SALES)
DAYS_AT_ONCE = 400  # days per rebuilding statement, well within the bound-parameter limits
REBUILD_LOCK = 0x5a1e5da7  # PostgreSQL advisory lock: one rebuild at a time (SQLite writers take turns anyway)
FIGURES = ("orders", "earning_orders", "revenue", "shipped_orders", "hours_to_ship", "unknown_hours", "delivered",
           "left_pending", "cancelled", "returned", "shipped_or_later")
PRODUCT_FIGURES = ("sku", "product_id", "name", "units", "revenue")
CUSTOMER_FIGURES = ("customer_id", "orders", "spent")
_changed_now: ContextVar[list[date] | None] = ContextVar("changed_days", default=None)


def _order_figures(day, postgres: bool, *where):
    """SQL: per shop day (``day``) and channel, the figures of the orders that match ``where``."""
    hours = func.coalesce(Order.hours_to_ship, hours_between_sql(Order.shipped_at, Order.created_at, postgres))
    # The day worked out in a subquery: PostgreSQL does not group by an expression holding bound parameters.
    placed = (select(day.label("shop_day"), Order.id, Order.channel, Order.status, Order.total, Order.shipped_at,
                     hours.label("hours"), Order.hours_to_ship.label("stored_hours"))
              .where(*where).subquery())
    o = placed.c
    earning, shipped = o.status.not_in(NOT_SALES), o.shipped_at.is_not(None)
    return (select(o.shop_day, o.channel,
                   func.count(o.id).label("orders"),
                   func.count(case((earning, o.id))).label("earning_orders"),
                   func.coalesce(func.sum(case((earning, o.total))), 0).label("revenue"),
                   func.count(case((shipped, o.id))).label("shipped_orders"),
                   func.coalesce(func.sum(case((shipped, o.hours))), 0.0).label("hours_to_ship"),
                   func.count(case((shipped & o.stored_hours.is_(None), o.id))).label("unknown_hours"),
                   func.count(case((o.status == "delivered", o.id))).label("delivered"),
                   func.count(case((o.status != "pending", o.id))).label("left_pending"),
                   func.count(case((o.status == "cancelled", o.id))).label("cancelled"),
                   func.count(case((o.status == "returned", o.id))).label("returned"),
                   func.count(case((o.status.in_(SHIPPED_OR_LATER), o.id))).label("shipped_or_later"))
            .group_by(o.shop_day, o.channel))


def _product_figures(day, *where):
    """SQL: per shop day (``day``), SKU and product, the units and revenue of the lines of earning orders that match
    ``where``, with the greatest line name."""
    placed = (select(day.label("shop_day"), OrderLine.sku, OrderLine.product_id, OrderLine.name,
                     OrderLine.quantity, OrderLine.line_total)
              .join(Order, Order.id == OrderLine.order_id).where(EARNING, *where).subquery())
    line = placed.c
    return (select(line.shop_day, line.sku, line.product_id, func.max(line.name).label("name"),
                   func.sum(line.quantity).label("units"), func.sum(line.line_total).label("revenue"))
            .group_by(line.shop_day, line.sku, line.product_id))


def _customer_figures(day, *where):
    """SQL: per shop day (``day``) and customer, how many orders that earn and match ``where`` they placed, and those
    orders' totals."""
    placed = select(day.label("shop_day"), Order.customer_id, Order.id, Order.total).where(EARNING, *where).subquery()
    o = placed.c
    # The count as the stored column's type: PostgreSQL would sum a bigint one into a numeric, slowly.
    return (select(o.shop_day, o.customer_id, cast(func.count(o.id), Integer).label("orders"),
                   func.sum(o.total).label("spent"))
            .group_by(o.shop_day, o.customer_id))


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days: [(first, last), ...]."""
    spans: list[tuple[date, date]] = []
    for day in days:
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


# More runs of changed days than this (a shop that sells every other day, right after the upgrade or a time-zone
# change noted them all) are sought within one bound: SQLite refuses an expression of about a thousand terms.
MAX_SPANS = 50


def _placed_on(days: list[date]):
    """SQL: orders whose stored shop day is one of ``days`` (sorted), sought by their placing time."""
    spans = _spans(days)
    if len(spans) > MAX_SPANS:
        spans = [(spans[0][0], spans[-1][1])]
    bounds = [utc_bounds(first, last) for first, last in spans]
    return and_(or_(*[and_(Order.created_at >= start, Order.created_at < end) for start, end in bounds]),
                Order.shop_day.in_(days))


def _changed_days(first: date, last: date) -> list[date]:
    """The days of the range noted as changed, sorted (inside ``one_look``: as first looked up there)."""
    changed = _changed_now.get()
    if changed is None:
        return list(db.session.scalars(select(SalesDayChanged.shop_day).distinct()
                                       .where(SalesDayChanged.shop_day.between(first, last))
                                       .order_by(SalesDayChanged.shop_day)))
    return [day for day in changed if first <= day <= last]


@contextmanager
def one_look() -> Iterator[None]:
    """The figures read inside look up once which days changed, not once per figure (a page's figures are of one
    moment anyway)."""
    token = _changed_now.set(list(db.session.scalars(
        select(SalesDayChanged.shop_day).distinct().order_by(SalesDayChanged.shop_day))))
    try:
        yield
    finally:
        _changed_now.reset(token)


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _undated(first: date, last: date):
    """SQL: orders placed in the range whose shop day is not stored yet, and that day worked out."""
    start, end = utc_bounds(first, last)
    return (shop_day_sql(Order.created_at, start, end),
            and_(Order.shop_day.is_(None), Order.created_at >= start, Order.created_at < end))


def days_of(first: date, last: date):
    """The range's rows of daily_sales (shop_day, channel and FIGURES), current: stored where the day has not
    changed since, worked out live where it has; as a subquery (a day and channel may have a row of each)."""
    postgres = _postgres()
    return _current(first, last, DailySales, ("channel", *FIGURES),
                    lambda day, *where: _order_figures(day, postgres, *where), "days")


def product_days_of(first: date, last: date):
    """The range's rows of daily_product_sales (shop_day and PRODUCT_FIGURES), current, as ``days_of``."""
    return _current(first, last, DailyProductSales, PRODUCT_FIGURES, _product_figures, "product_days")


def customer_days_of(first: date, last: date):
    """The range's rows of daily_customer_sales (shop_day and CUSTOMER_FIGURES), current, as ``days_of``."""
    return _current(first, last, DailyCustomerSales, CUSTOMER_FIGURES, _customer_figures, "customer_days")


def _current(first: date, last: date, rollup, columns: tuple[str, ...], live, name: str):
    """A rollup's rows for the range: stored ones for the days not changed since, and ``live(day, *where)`` (the
    same columns worked out from the orders) for the orders whose shop day is not stored yet and for the changed
    days."""
    changed = _changed_days(first, last)
    stored = select(*[getattr(rollup, column) for column in ("shop_day", *columns)]).where(
        rollup.shop_day.between(first, last), *([rollup.shop_day.not_in(changed)] if changed else []))
    day, undated = _undated(first, last)
    parts = [stored, live(day, undated)]
    if changed:
        parts.append(live(Order.shop_day, _placed_on(changed)))
    return union_all(*parts).subquery(name)


def _take_turns(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(literal(REBUILD_LOCK))))


def rebuild_changed_days(connection=None) -> int:
    """Store the rollups of every day noted as changed, and forget those notes; returns how many days were stored.

    Orders without a shop day get theirs first (their days are then noted too). Runs in the caller's transaction.
    """
    connection = connection or db.session.connection()
    _take_turns(connection)
    fill_shop_days(connection)
    notes = connection.execute(select(SalesDayChanged.id, SalesDayChanged.shop_day)).all()
    days = sorted({day for _, day in notes})
    postgres = connection.dialect.name == "postgresql"
    for i in range(0, len(days), DAYS_AT_ONCE):
        chunk = days[i:i + DAYS_AT_ONCE]
        connection.execute(delete(DailySales).where(DailySales.shop_day.in_(chunk)))
        connection.execute(insert(DailySales).from_select(
            ["shop_day", "channel", *FIGURES], _order_figures(Order.shop_day, postgres, _placed_on(chunk))))
        connection.execute(delete(DailyProductSales).where(DailyProductSales.shop_day.in_(chunk)))
        connection.execute(insert(DailyProductSales).from_select(
            ["shop_day", *PRODUCT_FIGURES], _product_figures(Order.shop_day, _placed_on(chunk))))
        connection.execute(delete(DailyCustomerSales).where(DailyCustomerSales.shop_day.in_(chunk)))
        connection.execute(insert(DailyCustomerSales).from_select(
            ["shop_day", *CUSTOMER_FIGURES], _customer_figures(Order.shop_day, _placed_on(chunk))))
    ids = [note_id for note_id, _ in notes]
    for i in range(0, len(ids), 5000):
        connection.execute(delete(SalesDayChanged).where(SalesDayChanged.id.in_(ids[i:i + 5000])))
    return len(days)

