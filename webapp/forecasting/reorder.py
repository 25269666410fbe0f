"""From a demand forecast to reorder advice: when stock runs out, when to reorder, how much.

- Daily spread: the 80% band is read as a normal one, so a day's standard deviation is (upper - lower) / 2.563.
- Demand over the lead time L: the forecast summed over the first L days; its spread is the root of the summed
  daily variances.
- Safety stock = z × spread over L, where z is the service level's normal quantile (95% → 1.645).
- Reorder point = demand over L + safety stock, rounded up.
- Order quantity = demand over L + cover days, plus safety stock, minus what is available now (never below 0).
- Stock-out date: the first day the cumulative forecast exceeds what is available; the likely range uses the
  band's upper edge (runs out sooner) and lower edge (later).
- Reorder by: the first day projected stock is at or below the reorder point (today when it already is).
"""
import math
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

from webapp.forecasting.predict import Z80


@dataclass(frozen=True)
class ReorderAdvice:
    stockout_date: date | None
    stockout_earliest: date | None
    stockout_latest: date | None
    reorder_by: date | None
    reorder_point: int
    reorder_qty: int
    safety_stock: int


def run_out_day(start: date, daily: list[float], available: int) -> date | None:
    """The first day cumulative demand exceeds ``available``; None when it doesn't within the horizon."""
    total = 0.0
    for offset, units in enumerate(daily):
        total += units
        if total > available:
            return start + timedelta(days=offset)
    return None


def advise(start: date, yhat: list[float], lower: list[float], upper: list[float], available: int,
           lead_time_days: int, service_level: float, cover_days: int) -> ReorderAdvice:
    lead = max(0, min(lead_time_days, len(yhat)))
    spreads = [(u - lo) / (2 * Z80) for u, lo in zip(upper, lower, strict=True)]
    lead_demand = sum(yhat[:lead])
    lead_spread = math.sqrt(sum(s * s for s in spreads[:lead]))
    safety = NormalDist().inv_cdf(service_level) * lead_spread
    reorder_point = math.ceil(lead_demand + safety - 1e-9)
    cover = sum(yhat[:lead + cover_days])
    reorder_qty = max(0, math.ceil(cover + safety - available - 1e-9))

    reorder_by = None
    projected = float(available)
    if projected <= reorder_point:
        reorder_by = start
    else:
        for offset, units in enumerate(yhat):
            projected -= units
            if projected <= reorder_point:
                reorder_by = start + timedelta(days=offset)
                break
    return ReorderAdvice(
        stockout_date=run_out_day(start, yhat, available),
        stockout_earliest=run_out_day(start, upper, available),
        stockout_latest=run_out_day(start, lower, available),
        reorder_by=reorder_by,
        reorder_point=reorder_point,
        reorder_qty=reorder_qty,
        safety_stock=math.ceil(safety - 1e-9),
    )


def changed_materially(old_point: int | None, old_qty: int | None, old_by: date | None,
                       advice: ReorderAdvice, today: date, lead_time_days: int) -> bool:
    """Worth an email: a reorder is now due within the lead time plus a week and the owner hasn't been told,
    or the advice moved by at least 25% (and 2 units) or the reorder-by date came 3+ days earlier. Smaller moves
    are the night-to-night wobble of a refitted model and would only teach the owner to ignore these emails."""
    if advice.reorder_by is None or advice.reorder_by > today + timedelta(days=lead_time_days + 7):
        return False
    if old_point is None or old_by is None:
        return True

    def moved(old: int, new: int) -> bool:
        return abs(new - old) >= 2 and abs(new - old) >= 0.25 * max(old, 1)

    return moved(old_point, advice.reorder_point) or moved(old_qty or 0, advice.reorder_qty) \
        or (old_by - advice.reorder_by).days >= 3
