"""Predicted ship dates for open orders, from how long this shop's own orders took to ship (DESIGN.md §6).

The model is a histogram of processing times T (created_at -> shipped_at, in whole hours) of the orders shipped
in the last HISTORY_DAYS, per priority and size (units 1, 2-3, 4+), read with one aggregate query and kept for
CACHE_SECONDS per web process, so the board costs no query per card.

An open order that has been waiting ``elapsed`` hours is expected to need the median of (T - elapsed) over the
historic T longer than ``elapsed`` — so an order that has already waited two days is not told "two more days"
when most orders that take that long ship the day after. Those longer times are taken from the finest group with
at least MIN_SAMPLES of them: (priority, size), then priority alone, then all orders. When even all orders have
fewer, the few there are still count; an order older than every historic T is expected within
OLDER_THAN_HISTORY_HOURS (it keeps sliding a day ahead until it ships, so a late one stays flagged). With fewer
than MIN_SAMPLES shipped orders in total there is no history to speak of: DEFAULT_PROCESSING_HOURS is assumed.
"""
import hashlib
import time as clock
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import Integer, case, cast, func, inspect, select

from webapp.extensions import db
from webapp.orders.models import SHIPPED_OR_LATER, Order, OrderLine
from webapp.timekeeping import hours_between_sql, shop_zone, utcnow

HISTORY_DAYS = 180
MIN_SAMPLES = 5
DEFAULT_PROCESSING_HOURS = 48
OLDER_THAN_HISTORY_HOURS = 24
CACHE_SECONDS = 300
# Not shipped yet and still going to be: the orders that get a predicted ship date.
OPEN_STATUSES = ("pending", "on_hold", "confirmed", "processing")
SHIPPED_STATUSES = SHIPPED_OR_LATER
SIZES = ("1", "2-3", "4+")
SIZE_WORDS = {"1": "1 item", "2-3": "2–3 items", "4+": "4+ items"}


def size_band(units: int) -> str:
    """An order's size group by its number of units: 1, 2-3 or 4+."""
    return "1" if units <= 1 else "2-3" if units <= 3 else "4+"


class Histogram:
    """Processing times in whole hours with how many orders took each, for medians over the longer ones."""

    def __init__(self, counts: dict[int, int]):
        self.hours = sorted(counts)
        self.before = [0]  # before[i]: how many orders took less than hours[i]
        for hour in self.hours:
            self.before.append(self.before[-1] + counts[hour])

    @property
    def total(self) -> int:
        return self.before[-1]

    def longer_than(self, elapsed: float) -> int:
        """How many historic times exceed ``elapsed`` hours."""
        return self.total - self.before[bisect_right(self.hours, elapsed)]

    def _value_at(self, position: int) -> int:
        return self.hours[bisect_right(self.before, position) - 1]

    def median_remaining(self, elapsed: float) -> float:
        """The median of (T - elapsed) over the times T > elapsed (at least one must exist)."""
        start = self.before[bisect_right(self.hours, elapsed)]
        n = self.total - start
        middle = start + (n - 1) // 2
        median = self._value_at(middle) if n % 2 else (self._value_at(middle) + self._value_at(middle + 1)) / 2
        return median - elapsed


@dataclass
class ShipTimeModel:
    """Histograms per (priority, size), per (priority, None) and for (None, None) = all orders."""

    groups: dict[tuple[str | None, str | None], Histogram] = field(default_factory=dict)
    version: str = "empty"

    @property
    def sample_count(self) -> int:
        everything = self.groups.get((None, None))
        return everything.total if everything else 0


@dataclass(frozen=True)
class Prediction:
    ships_at: datetime  # naive UTC
    ships_on: date  # in the shop's time zone
    basis: str  # what it was worked out from, in words

    @property
    def label(self) -> str:
        """'ships ~Tue 24 Nov'."""
        return _ship_label(self.ships_on)

    def misses(self, due_date: date | None) -> bool:
        """True when the order is predicted to ship after its due date."""
        return due_date is not None and self.ships_on > due_date


@lru_cache(maxsize=1024)
def _ship_label(day: date) -> str:
    # A board's cards share a handful of days: format each once.
    return f"ships ~{day:%a} {day.day} {day:%b}"


def build_model(now: datetime | None = None) -> ShipTimeModel:
    """Read the processing-time histograms with one aggregate query over the last HISTORY_DAYS of shipping."""
    now = now or utcnow()
    hours = hours_between_sql(Order.shipped_at, Order.created_at)
    per_order = (
        select(Order.priority.label("priority"),
               cast(func.round(hours), Integer).label("hours"),
               func.coalesce(func.sum(OrderLine.quantity), 0).label("units"))
        .outerjoin(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.in_(SHIPPED_STATUSES), Order.shipped_at >= now - timedelta(days=HISTORY_DAYS),
               Order.shipped_at >= Order.created_at)
        .group_by(Order.id, Order.priority, Order.shipped_at, Order.created_at)
        .subquery()
    )
    size = case((per_order.c.units <= 1, "1"), (per_order.c.units <= 3, "2-3"), else_="4+")
    rows = db.session.execute(
        select(per_order.c.priority, size, per_order.c.hours, func.count())
        .group_by(per_order.c.priority, size, per_order.c.hours)
    ).all()
    counts: dict[tuple, dict[int, int]] = {}
    for priority, band, hours, count in rows:
        for key in ((priority, band), (priority, None), (None, None)):
            bucket = counts.setdefault(key, {})
            bucket[int(hours)] = bucket.get(int(hours), 0) + count
    fingerprint = hashlib.sha1(repr(sorted(rows, key=repr)).encode()).hexdigest()[:12]
    return ShipTimeModel(groups={key: Histogram(bucket) for key, bucket in counts.items()}, version=fingerprint)


def ship_time_model() -> ShipTimeModel:
    """The model for this request: the same one throughout it, rebuilt at most every CACHE_SECONDS per process."""
    if "ship_time_model" in g:
        return g.ship_time_model
    cache = current_app.extensions.setdefault("ship_time_model", {})
    if cache.get("expires", 0) <= clock.monotonic():
        cache["model"] = build_model()
        cache["expires"] = clock.monotonic() + CACHE_SECONDS
    g.ship_time_model = cache["model"]
    return g.ship_time_model


def forget_model() -> None:
    """Drop the cached model (the next request reads the history again)."""
    current_app.extensions.pop("ship_time_model", None)
    g.pop("ship_time_model", None)


def _group_words(priority: str | None, band: str | None, samples: int) -> str:
    if priority is None:
        return f"{samples} orders"
    return f"{samples} {priority} orders" + (f" of {SIZE_WORDS[band]}" if band else "")


def predict_remaining_hours(model: ShipTimeModel, priority: str, units: int, elapsed: float) -> tuple[float, str]:
    """Hours until an order of ``priority`` and ``units`` that has waited ``elapsed`` hours ships, and why."""
    if model.sample_count < MIN_SAMPLES:
        if elapsed < DEFAULT_PROCESSING_HOURS:
            return DEFAULT_PROCESSING_HOURS - elapsed, "Too few orders shipped yet: two days assumed."
        return OLDER_THAN_HISTORY_HOURS, "Too few orders shipped yet, and this one is over two days old."
    band = size_band(units)
    for key in ((priority, band), (priority, None), (None, None)):
        histogram = model.groups.get(key)
        longer = histogram.longer_than(elapsed) if histogram else 0
        if longer >= MIN_SAMPLES:
            return (histogram.median_remaining(elapsed),
                    f"From {_group_words(*key, longer)} shipped lately that took longer than this one has waited.")
    everything = model.groups[(None, None)]
    longer = everything.longer_than(elapsed)
    if longer:
        return (everything.median_remaining(elapsed),
                f"From the {longer} order(s) shipped lately that took longer than this one has waited.")
    return OLDER_THAN_HISTORY_HOURS, "Older than any order shipped lately: expected within a day."


def _units(order) -> int:
    """Units in the order: the board's cards (plain rows) and lists filled by fill_item_counts carry item_count;
    an order page has its lines."""
    if not isinstance(order, Order) or "item_count" in inspect(order).dict:
        return int(order.item_count or 0)
    return sum(line.quantity for line in order.lines)


def predict_ship(order, model: ShipTimeModel | None = None, now: datetime | None = None,
                 zone: ZoneInfo | None = None) -> Prediction | None:
    """When an open order (an Order, or a board card's row) is expected to ship; None for an order that shipped
    or never will. The board passes its model, now and the shop's zone once for all its cards."""
    if order.status not in OPEN_STATUSES:
        return None
    model = model if model is not None else ship_time_model()
    now = now or utcnow()
    elapsed = max(0.0, (now - order.created_at).total_seconds() / 3600)
    remaining, basis = predict_remaining_hours(model, order.priority, _units(order), elapsed)
    ships_at = now + timedelta(hours=remaining)
    ships_on = ships_at.replace(tzinfo=UTC).astimezone(zone or shop_zone()).date()
    return Prediction(ships_at=ships_at, ships_on=ships_on, basis=basis)
