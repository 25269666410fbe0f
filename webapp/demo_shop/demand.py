"""How much the demo shop sells on a given day: a weekly rhythm, a Christmas peak and a summer lull, steady growth,
and day-to-day noise (negative binomial: busier and quieter days than Poisson alone would give)."""
import math
import random
from datetime import date

# An ordinary day's orders at today's level, before the weekly and yearly patterns.
ORDERS_PER_DAY_NOW = 8.5
GROWTH_PER_YEAR = 0.20
# Monday first: people browse and buy in the working week; Saturdays are the quietest.
WEEKDAY_FACTORS = (1.12, 1.10, 1.04, 1.02, 0.94, 0.74, 0.84)
_WEEK_MEAN = sum(WEEKDAY_FACTORS) / 7
# Shape of the gamma mixing: smaller means noisier days.
DISPERSION = 12
CHRISTMAS_PEAK_DAY = 337  # about 3 December
SUMMER_LULL_DAY = 200  # about 19 July


def _signed_days(day_of_year: int, centre: int) -> int:
    offset = (day_of_year - centre) % 365
    return offset - 365 if offset > 182 else offset


def yearly_factor(day: date) -> float:
    """The season: a November–December peak for presents, a summer lull, quiet after the last posting dates."""
    day_of_year = day.timetuple().tm_yday
    to_peak = _signed_days(day_of_year, CHRISTMAS_PEAK_DAY)
    width = 24 if to_peak < 0 else 14  # builds up through November, falls off fast in December
    factor = 1 + 0.8 * math.exp(-0.5 * (to_peak / width) ** 2)
    factor -= 0.3 * math.exp(-0.5 * (_signed_days(day_of_year, SUMMER_LULL_DAY) / 35) ** 2)
    if (day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 3):
        factor *= 0.6  # too late for Christmas delivery
    return factor


def weekday_factor(day: date) -> float:
    return WEEKDAY_FACTORS[day.weekday()] / _WEEK_MEAN


def trend_factor(day: date, today: date) -> float:
    return (1 + GROWTH_PER_YEAR) ** ((day - today).days / 365)


def expected_orders(day: date, today: date) -> float:
    """The mean number of orders on ``day`` (before noise)."""
    return ORDERS_PER_DAY_NOW * weekday_factor(day) * yearly_factor(day) * trend_factor(day, today)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the demo's daily means are small enough for it."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def orders_on(rng: random.Random, day: date, today: date) -> int:
    """How many orders arrive on ``day``: Poisson with a gamma-distributed rate (negative binomial)."""
    mean = expected_orders(day, today)
    return poisson(rng, rng.gammavariate(DISPERSION, mean / DISPERSION))


def product_season(shape: str, day: date) -> float:
    """A product's own season on top of the shop's: planters sell in spring, candle holders before Christmas."""
    day_of_year = day.timetuple().tm_yday
    peaks = {"winter": (350, 0.35), "spring": (125, 0.6), "candles": (335, 0.8)}
    if shape not in peaks:
        return 1.0
    centre, swing = peaks[shape]
    return 1 + swing * math.cos(2 * math.pi * (day_of_year - centre) / 365)
