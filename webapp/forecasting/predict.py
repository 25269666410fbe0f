"""Forecast daily units: Prophet where the history supports it, a weekday-average model where it is short.

Every forecast comes with a backtest: the same kind of model is fitted without the last 28 days, and its error
on those days (MAE, and MASE scaled by the in-sample error of "same weekday last week") is set beside the
seasonal-naive baseline's, so the owner can see whether the forecast beats the simplest sensible guess.
"""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist

HORIZON_DAYS = 90
BACKTEST_DAYS = 28
SEASON = 7
INTERVAL = 0.80
# Prophet needs enough days to see a trend and the weekly cycle; below this, or with too few selling days,
# the fallback model is used and the page says why.
MIN_PROPHET_DAYS = 8 * 7
MIN_SELLING_DAYS = 14
MIN_SELLING_SHARE = 0.2
# Yearly seasonality from one year alone is guesswork (Prophet warns below two); allow a few days short of two.
MIN_YEARLY_DAYS = 700
Z80 = NormalDist().inv_cdf(0.5 + INTERVAL / 2)
# Prophet's band comes from simulated futures; 200 give its 10th and 90th percentiles to within a few percent.
UNCERTAINTY_SAMPLES = 200


@dataclass
class Prediction:
    model: str  # prophet | fallback
    note: str
    yhat: list[float]
    lower: list[float]
    upper: list[float]


@dataclass
class Backtest:
    mae: float | None = None
    mase: float | None = None
    baseline_mae: float | None = None
    baseline_mase: float | None = None
    demand_shift: float | None = None
    note: str = ""
    actual: list[int] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)


def choose_model(history: list[int]) -> tuple[str, str]:
    """Which model suits this history, and the sentence that explains the choice on the page."""
    days = len(history)
    selling_days = sum(1 for units in history if units > 0)
    if days < MIN_PROPHET_DAYS:
        return "fallback", f"Only {days} days of sales history: a weekday average is used until there are " \
                           f"{MIN_PROPHET_DAYS}."
    if selling_days < MIN_SELLING_DAYS:
        return "fallback", f"Sold on only {selling_days} days: too sparse for Prophet, so a weekday average is used."
    if selling_days < MIN_SELLING_SHARE * days:
        return "fallback", (f"Sells on {selling_days / days:.0%} of days: for demand this intermittent an average "
                            f"rate forecasts better than Prophet's curve, so a weekday average is used.")
    seasons = "weekly and yearly" if days >= MIN_YEARLY_DAYS else "weekly"
    return "prophet", f"Prophet with {seasons} seasonality, fitted on {days} days."


def predict(history: list[float], start: date, horizon: int = HORIZON_DAYS, model: str | None = None,
            interval: float | None = INTERVAL) -> Prediction:
    """Forecast ``horizon`` days from ``start`` (the day after the history ends), with a central ``interval``;
    ``interval=None`` skips the band (Prophet then draws no samples, which makes a backtest much cheaper)."""
    chosen, note = choose_model(history)
    model = model or chosen
    if model == "prophet":
        return _prophet(history, start, horizon, note, interval)
    interval = interval or INTERVAL
    return _weekday_average(history, start, horizon, note, interval)


def _weekday_average(history: list[int], start: date, horizon: int, note: str, interval: float) -> Prediction:
    """Mean units of the last up-to-8 weeks, shaped by weekday when at least 4 weeks exist; Poisson interval."""
    recent = history[-8 * SEASON:]
    mean = sum(recent) / len(recent) if recent else 0.0
    factors = [1.0] * SEASON
    if len(recent) >= 4 * SEASON and mean > 0:
        first = start - timedelta(days=len(recent))
        sums, counts = [0.0] * SEASON, [0] * SEASON
        for offset, units in enumerate(recent):
            weekday = (first + timedelta(days=offset)).weekday()
            sums[weekday] += units
            counts[weekday] += 1
        factors = [(sums[d] / counts[d]) / mean if counts[d] else 1.0 for d in range(SEASON)]
    yhat, lower, upper = [], [], []
    for offset in range(horizon):
        rate = mean * factors[(start + timedelta(days=offset)).weekday()]
        yhat.append(rate)
        lower.append(float(poisson_quantile(rate, 0.5 - interval / 2)))
        upper.append(float(poisson_quantile(rate, 0.5 + interval / 2)))
    return Prediction("fallback", note, yhat, lower, upper)


def poisson_quantile(rate: float, q: float) -> int:
    """The smallest k with P(X <= k) >= q for X ~ Poisson(rate)."""
    if rate <= 0:
        return 0
    if rate > 200:  # normal approximation, where the exact sum would underflow
        return max(0, math.ceil(rate + NormalDist().inv_cdf(q) * math.sqrt(rate) - 0.5))
    k, term = 0, math.exp(-rate)
    total = term
    while total < q:
        k += 1
        term *= rate / k
        total += term
    return k


def _prophet(history: list[float], start: date, horizon: int, note: str, interval: float | None) -> Prediction:
    from webapp.forecasting import prophet_fit

    first = start - timedelta(days=len(history))
    model = prophet_fit.fit(history, first, yearly=len(history) >= MIN_YEARLY_DAYS)
    # The band comes from random simulated futures: a fixed seed makes the same history give the same band, so
    # a rerun (or the next night on unchanged sales) doesn't wobble the advice by chance.
    yhat, lower, upper = prophet_fit.project(model, start, horizon, interval, seed=len(history),
                                             samples=UNCERTAINTY_SAMPLES)
    # Demand is never negative: the model's line and band are cut at zero.
    yhat = [max(0.0, v) for v in yhat]
    if not interval:
        return Prediction("prophet", note, yhat, yhat, yhat)
    return Prediction("prophet", note, yhat, [max(0.0, v) for v in lower], [max(0.0, v) for v in upper])


def load_prophet() -> None:
    """Fit once, so that a worker that forks a process per job pays the one-off costs (numpy's lazy imports,
    finding Prophet's Stan program, the first Fourier rows) once, before forking, rather than in every job."""
    week = [1, 3, 2, 0, 4, 6, 5, 2, 1, 3, 1, 2, 7, 4]
    predict(week * 5, date(2026, 1, 5), horizon=7, model="prophet")


def backtest(history: list[int], start: date, model: str) -> Backtest:
    """Refit without the last 28 days and score both the model and the seasonal-naive baseline on them."""
    if len(history) < BACKTEST_DAYS + 2 * SEASON:
        return Backtest(note=f"No backtest: it needs {BACKTEST_DAYS + 2 * SEASON} days of history.")
    train, actual = history[:-BACKTEST_DAYS], history[-BACKTEST_DAYS:]
    test_start = start - timedelta(days=BACKTEST_DAYS)
    predicted = predict(train, test_start, BACKTEST_DAYS, model=model, interval=None).yhat
    baseline = [train[len(train) - SEASON + (offset % SEASON)] for offset in range(BACKTEST_DAYS)]
    mae = mean_absolute_error(actual, predicted)
    baseline_mae = mean_absolute_error(actual, baseline)
    # MASE's scale: how far "same weekday last week" was off inside the training data.
    scale = mean_absolute_error(train[SEASON:], train[:-SEASON])
    expected = sum(predicted)
    return Backtest(
        mae=mae,
        mase=mae / scale if scale else None,
        baseline_mae=baseline_mae,
        baseline_mase=baseline_mae / scale if scale else None,
        demand_shift=sum(actual) / expected if expected > 0 else None,
        note="" if scale else "MASE undefined: the history never changes from week to week.",
        actual=actual,
        predicted=predicted,
    )


def mean_absolute_error(actual: list[float], predicted: list[float]) -> float:
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)
