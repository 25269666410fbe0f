"""When the nightly run fits a product's model again, and when it keeps the stored forecast.

A Prophet fit of two years costs about 40 ms of a core (most of it Stan's optimizer), and a backtest as much
again: a thousand products can be refitted in a night on a small machine, but need not be every night, as a
year-long model hardly moves in a day. A product is refitted when
- it has no stored fit (new, or stored before fit days were kept), or its history now suits the other model;
- it is its turn: products take turns by id so about a seventh refit each night, and no fit gets a week old;
- its sales since the fit left the forecast's 80% range more than chance explains (see ``left_the_range``);
- it uses the weekday-average model, which costs nothing to recompute.
Every other product keeps its fitted forecast, rolled forward to today: its advice is worked out again from the
remaining days and today's stock, so it is as fresh as a refit's.
"""
import math
from datetime import date, timedelta

from webapp.forecasting.predict import INTERVAL, Z80

REFIT_EVERY_DAYS = 7
# Sales that a good 80% range lets out by chance once a night in a hundred do not trigger a refit.
CHANCE = 0.01
Z_CHANCE = 2.576  # two-sided 1% of a normal


def refit_reason(product_id: int, model: str, fitted_on: date | None, fitted_model: str | None,
                 points: list[dict], history: list[int], as_of: date) -> str | None:
    """Why the model of ``product_id`` should be fitted again tonight, or None to keep the stored forecast.

    ``model`` is the kind its history suits now; ``fitted_on``, ``fitted_model`` and ``points`` describe the
    stored fit (None and [] when there is none); ``history`` is its daily units up to the day before ``as_of``.
    """
    if fitted_model is None:
        return "its first forecast"
    if fitted_on is None:
        return "no fit day on record"
    if model != fitted_model:
        return f"its history now suits the {'Prophet' if model == 'prophet' else 'weekday-average'} model"
    if model == "fallback":
        return "a weekday average is recomputed every night"
    age = (as_of - fitted_on).days
    if age >= REFIT_EVERY_DAYS:
        return f"its fit was {age} days old"
    if age > 0 and is_refit_turn(product_id, as_of):
        return "its weekly turn (products take turns through the week)"
    return left_the_range(points, history, as_of)


def is_refit_turn(product_id: int, day: date) -> bool:
    return (day.toordinal() - product_id) % REFIT_EVERY_DAYS == 0


def left_the_range(points: list[dict], history: list[int], as_of: date) -> str | None:
    """Whether the sales of the days since the fit (the last 7 at most) left the stored 80% range.

    A good 80% range lets a day in five out, so "2 of 7 days outside" would refit four products in ten for no
    reason; a refit comes when the number of days outside, or the total against the total's range, is less
    likely than ``CHANCE`` to be luck.
    """
    fitted = {p["date"]: p for p in points}
    days = [as_of - timedelta(days=back) for back in range(REFIT_EVERY_DAYS, 0, -1)]
    days = [d for d in days if d.isoformat() in fitted]
    if not days:
        return None
    recent = ([0] * len(days) + history)[-len(days):]
    expected = [fitted[d.isoformat()] for d in days]
    outside = sum(1 for units, p in zip(recent, expected, strict=True) if not p["lower"] <= units <= p["upper"])
    if outside >= 2 and _binomial_tail(len(days), outside, 1 - INTERVAL) < CHANCE:
        return f"{outside} of the last {len(days)} days' sales fell outside its 80% range"
    # A day's spread read from its band as in reorder.py; a count varies at least as a Poisson one does (the band
    # of a slow seller is cut at zero, which would make it look narrower than it is).
    variance = sum(max(((p["upper"] - p["lower"]) / (2 * Z80)) ** 2, p["yhat"]) for p in expected)
    total, forecast = sum(recent), sum(p["yhat"] for p in expected)
    if abs(total - forecast) > Z_CHANCE * math.sqrt(variance):
        return (f"{total} units sold in the last {len(days)} days against {forecast:.0f} forecast, outside its "
                f"range")
    return None


def _binomial_tail(trials: int, at_least: int, chance: float) -> float:
    return sum(math.comb(trials, k) * chance ** k * (1 - chance) ** (trials - k) for k in range(at_least, trials + 1))
