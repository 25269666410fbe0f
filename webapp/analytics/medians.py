"""Exact medians in SQL, portable to SQLite (which has no percentile function)."""
from datetime import datetime

from sqlalchemy import Float, cast, func, null, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from webapp.orders.models import Order


def median(values):
    """The median of a one-column select labelled ``value`` (NULLs left out by the caller), as a scalar subquery.

    Portable (SQLite has no percentile function): sorts the values once and averages the middle one (n odd) or two
    (n even), skipping the first (n - 1) / 2. A LIMIT rather than ranking every value with window functions.
    """
    inner = values.cte()
    n = select(func.count()).select_from(inner).scalar_subquery()
    middle = select(inner.c.value).order_by(inner.c.value).limit(2 - n % 2).offset((n - 1) // 2).subquery()
    return select(func.avg(middle.c.value)).scalar_subquery()


def median_in_order(value, start: datetime, end: datetime, *where, count: int | None = None):
    """The median of a stored column over the orders placed in [start, end) that match ``where`` (NULLs left out),
    as a scalar subquery; ``count``: how many there are, when known already (from the daily rollups, say).

    Counts them from the range (unless known), then reads the middle one or two in value order from an index that
    leads with the column: a walk that stops at the middle instead of sorting every value of the range. The walk
    names the placing time through ``unindexed`` so that SQLite takes that index rather than seeking the range and
    sorting it.
    """
    placed = unindexed(Order.created_at)
    if count is None:
        n = (select(func.count().label("n"))
             .where(value.is_not(None), Order.created_at >= start, Order.created_at < end, *where)
             .cte())  # counted once, read by LIMIT and OFFSET
        count = select(n.c.n).scalar_subquery()
    elif count == 0:
        return select(cast(null(), Float)).scalar_subquery()
    middle = (select(value.label("value")).where(value.is_not(None), placed >= start, placed < end, *where)
              .order_by(value).limit(2 - count % 2).offset((count - 1) // 2).subquery())
    return select(func.avg(middle.c.value)).scalar_subquery()


class unindexed(ColumnElement):  # noqa: N801 - used like an SQL function
    """A column that SQLite must not seek an index by (rendered ``+column``; as is elsewhere): where a query should
    walk another index in order instead, as the dashboard's medians do."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type

    @property
    def _from_objects(self):
        return self.column._from_objects


@compiles(unindexed)
def _as_is(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)
