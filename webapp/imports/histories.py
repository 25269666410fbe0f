"""New customers' histories, read from the file ahead of the import, so their orders are written with their earlier
orders (count, total, latest one's time: see webapp.orders.earlier_orders) instead of being filled after.

A file is seldom in time order, so figures worked out batch by batch would be wrong for most orders, and filling them
after the batches rewrote every imported order: on PostgreSQL a second version of each row and all its index entries,
more server time than the inserts. One read of the file ahead (parsing only, nothing written) gives each customer's
orders that the import will take, in time order. Only customers the import creates are trusted this way: it wrote
all their orders. Whatever the read could not foresee (an order skipped for a reason found while writing, a price
from the catalogue, an order taken meanwhile through another channel) leaves the customer to the fill after.

Batches are committed one by one, so an order's figures may count an order of a later batch (in a newest-first export,
nearly every order's do). They are written all the same: an import that stops before that batch is stored works its
customers' figures out again from what it stored, whichever way it stops (importing.fill_after_stop, and for a worker
killed mid-import the minute dispatch, interrupted.py). Writing them without figures and filling after rewrote most
orders of such a file: on PostgreSQL more server time than the inserts.
"""
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from webapp.imports.grouping import group_orders
from webapp.imports.reading import FileReadError, read_rows
from webapp.orders.models import NOT_SALES


class Foreseen(NamedTuple):
    """An order as the read ahead saw it, and its earlier orders in the file (a tuple: made 100,000 times)."""

    customer: tuple[str, str]
    created_at: datetime
    earns: bool
    total: Decimal
    earlier_orders: int
    earlier_total: Decimal
    previous_order_at: datetime | None

    @property
    def days_since_previous_order(self) -> float | None:
        if self.previous_order_at is None:
            return None
        return (self.created_at - self.previous_order_at).total_seconds() / 86400


MAX_ORDERS = 250_000  # about 100 MB of figures; a larger file's figures are all filled after


def read_ahead(path: Path | str, columns: dict[str, int], zone, importer) -> tuple[dict[int, Foreseen], set]:
    """Each order the importer would take, by its first line, with its earlier orders among the file's; and the
    customers whose figures the file cannot tell (an order priced from the catalogue). Nothing for a file of more
    than MAX_ORDERS orders."""
    taken: dict[tuple[str, str], list[tuple[datetime, int, bool, Decimal]]] = defaultdict(list)
    unforeseeable = set()
    kept = 0
    with read_rows(Path(path)) as (_, rows):
        try:
            for order in group_orders(rows, columns, zone):
                if order.errors or order.returns_only or importer.problem(order) is not None:
                    continue
                customer = importer.customer_key(order)
                total = importer.charged_total(order)
                if total is None:
                    unforeseeable.add(customer)
                else:
                    taken[customer].append((order.created_at, order.first_line, order.status not in NOT_SALES, total))
                    kept += 1
                    if kept > MAX_ORDERS:  # the worker's memory is bounded: the fill after does the rest
                        return {}, set()
        except FileReadError:
            pass  # the import itself stops there and says why
    foreseen = {}
    for customer, orders in taken.items():
        if customer in unforeseeable:
            continue
        count, total, previous = 0, Decimal(0), None
        for created_at, first_line, earns, order_total in sorted(orders):  # ids follow the file: lines break ties
            foreseen[first_line] = Foreseen(customer, created_at, earns, order_total, count, total, previous)
            if earns:
                count, total, previous = count + 1, total + order_total, created_at
    return foreseen, unforeseeable
