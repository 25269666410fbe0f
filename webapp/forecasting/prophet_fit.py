"""Prophet's model of daily demand, fitted by Prophet's own Stan program without Prophet's per-fit overhead.

A Prophet fit and forecast of a two-year series cost about 130 ms of a core, and Stan's optimizer used only a
third of it: the rest went on pandas frames built and rebuilt for every fit and forecast, a 400 kB data file
written number by number, and simulated futures sampled through DataFrames. For the one configuration the shop
uses (linear trend, additive weekly and, from 700 days, yearly seasonality, no holidays or regressors), this
module builds the same inputs with numpy, runs the compiled Stan program Prophet ships, and projects and samples
the future as Prophet's vectorized predict does, with the same random draws for a given seed.
``tests/test_forecasts.py`` checks it against Prophet itself.

Stan starts where Prophet starts it and stops where Prophet stops it, so the forecast is Prophet's to the last
digit (a least-squares start was tried: no fewer steps, and a slightly different stopping point).
"""
import importlib.util
import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy

# Prophet's defaults, as `Prophet(weekly_seasonality=True, yearly_seasonality=...)` uses them.
N_CHANGEPOINTS = 25
CHANGEPOINT_RANGE = 0.8
CHANGEPOINT_PRIOR_SCALE = 0.05
SEASONALITY_PRIOR_SCALE = 10.0
YEARLY = (365.25, 10)  # period in days, Fourier order
WEEKLY = (7.0, 3)
# Prophet optimizes short series with Newton's method and long ones with L-BFGS (falling back to Newton).
NEWTON_BELOW_DAYS = 100
ITERATIONS = 10_000
EPOCH = date(1970, 1, 1).toordinal()


@dataclass
class Fit:
    """A fitted model: Prophet's parameters on its scaled axes, and the scales to read them back in units."""

    first: date
    days: int
    yearly: bool
    y_scale: float
    changepoints_t: numpy.ndarray
    k: float
    m: float
    delta: numpy.ndarray
    beta: numpy.ndarray
    sigma_obs: float


@lru_cache(maxsize=8192)
def _season_row(ordinal: int, yearly: bool) -> tuple[tuple[float, ...], str]:
    """Prophet's Fourier features of one day (yearly first, then weekly), and the same as a JSON row.

    Computed one day at a time with math.sin, so a day's features never depend on which other days were computed
    with it; cached, since every product of a chunk shares most of its days."""
    x = math.pi * 2 * (ordinal - EPOCH)
    values = []
    for period, order in ((YEARLY, WEEKLY) if yearly else (WEEKLY,)):
        for i in range(order):
            c = (i + 1) / period * x
            values += (math.sin(c), math.cos(c))
    return tuple(values), "[" + ",".join(map(repr, values)) + "]"


def _season_matrix(first: date, days: int, yearly: bool) -> numpy.ndarray:
    start = first.toordinal()
    return numpy.array([_season_row(start + i, yearly)[0] for i in range(days)])


def fit(history: list[float], first: date, yearly: bool) -> Fit:
    """Fit Prophet's model to ``history``, the daily values from ``first`` on (at least two days)."""
    days = len(history)
    y = numpy.asarray(history, dtype=float)
    y_scale = float(numpy.abs(y).max()) or 1.0
    y_scaled = y / y_scale
    t = numpy.arange(days) / (days - 1)
    size = math.floor(days * CHANGEPOINT_RANGE)
    n_changepoints = min(N_CHANGEPOINTS, size - 1)
    if n_changepoints > 0:
        changepoints_t = t[numpy.linspace(0, size - 1, n_changepoints + 1).round().astype(int)[1:]]
    else:
        changepoints_t = numpy.array([0.0])  # Prophet's dummy changepoint
    columns = len(_season_row(first.toordinal(), yearly)[0])
    # Prophet's start: the straight line through the first and last day, no trend changes or seasonality.
    k, m = float(y_scaled[-1] - y_scaled[0]), float(y_scaled[0])
    if y.min() == y.max():  # Prophet skips Stan for a constant series: that line, with no noise
        return Fit(first, days, yearly, y_scale, changepoints_t, k, m, numpy.zeros(len(changepoints_t)),
                   numpy.zeros(columns), 1e-9)
    start = {"k": k, "m": m, "delta": [0.0] * len(changepoints_t), "beta": [0.0] * columns, "sigma_obs": 1.0}
    data = json.dumps({
        "T": days, "S": len(changepoints_t), "K": columns, "tau": CHANGEPOINT_PRIOR_SCALE, "trend_indicator": 0,
        "y": y_scaled.tolist(), "t": t.tolist(), "cap": [0] * days, "t_change": changepoints_t.tolist(),
        "s_a": [1] * columns, "s_m": [0] * columns, "sigmas": [SEASONALITY_PRIOR_SCALE] * columns,
    })
    start_row = first.toordinal()
    rows = ",".join(_season_row(start_row + i, yearly)[1] for i in range(days))
    values = _optimize(data[:-1] + ', "X": [' + rows + "]}", start, "newton" if days < NEWTON_BELOW_DAYS else "lbfgs")
    count = len(changepoints_t)
    return Fit(first, days, yearly, y_scale, changepoints_t, k=values["k"], m=values["m"],
               delta=numpy.array([values[f"delta.{i + 1}"] for i in range(count)]),
               beta=numpy.array([values[f"beta.{i + 1}"] for i in range(columns)]), sigma_obs=values["sigma_obs"])


def _optimize(data: str, start: dict, algorithm: str) -> dict[str, float]:
    """Run Prophet's Stan program's optimizer, falling back to Newton's method as Prophet does."""
    with tempfile.TemporaryDirectory(prefix="forecast-") as folder:
        paths = {name: os.path.join(folder, name) for name in ("data.json", "start.json", "fit.csv")}
        with open(paths["data.json"], "w") as out:
            out.write(data)
        with open(paths["start.json"], "w") as out:
            json.dump(start, out)
        for method in dict.fromkeys((algorithm, "newton")):
            run = subprocess.run(
                [stan_program(), "optimize", f"algorithm={method}", f"iter={ITERATIONS}", "jacobian=0",
                 "data", f"file={paths['data.json']}", f"init={paths['start.json']}", "random", "seed=1",
                 "output", f"file={paths['fit.csv']}", "refresh=0"],
                capture_output=True, text=True, check=False)
            if run.returncode == 0:
                break
        else:
            raise RuntimeError(f"Stan's optimizer failed: {(run.stdout + run.stderr)[-500:]}")
        with open(paths["fit.csv"]) as fitted:
            header, values = [line for line in fitted if not line.startswith("#")][:2]
    return {name: float(value) for name, value in zip(header.strip().split(","), values.strip().split(","),
                                                      strict=True) if not name.startswith("trend.")}


@lru_cache(maxsize=1)
def stan_program() -> str:
    """The compiled Stan program Prophet ships, found without importing Prophet (and pandas with it)."""
    spec = importlib.util.find_spec("prophet")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Prophet is not installed: its compiled Stan program is needed for forecasts.")
    return os.path.join(spec.submodule_search_locations[0], "stan_model", "prophet_model.bin")


def project(model: Fit, start: date, horizon: int, interval: float | None, seed: int,
            samples: int) -> tuple[list[float], list[float], list[float]]:
    """The forecast of ``horizon`` days from ``start`` (after the history), and its central ``interval`` from
    ``samples`` simulated futures (future trend changes and daily noise, as Prophet draws them); without an
    interval the band is the forecast itself."""
    span = model.days - 1
    offset = (start - model.first).days
    t = (offset + numpy.arange(horizon)) / span
    trend = _piecewise_linear(t, model.delta, model.k, model.m, model.changepoints_t)
    seasonal = _season_matrix(start, horizon, model.yearly) @ model.beta * model.y_scale
    yhat = trend * model.y_scale + seasonal
    if not interval:
        values = yhat.tolist()
        return values, values, values
    # Prophet's vectorized sampling, draw for draw: trend changes as likely as in the history, as large on
    # average as the fitted ones, then Gaussian noise of the fitted size.
    random = numpy.random.RandomState(seed)
    step = 1 / span
    likelihood = len(model.changepoints_t) * step
    mean_delta = float(numpy.mean(numpy.abs(model.delta))) + 1e-8
    changes = random.uniform(size=(samples, horizon)) < likelihood
    shifts = random.laplace(0, mean_delta, size=changes.shape) * changes
    shifts = (numpy.hstack([numpy.zeros((samples, 1)), shifts])[:, :-1] + shifts) / 2
    trends = (trend + shifts.cumsum(axis=1).cumsum(axis=1) * step) * model.y_scale
    futures = trends + seasonal + random.normal(0, model.sigma_obs, trends.shape) * model.y_scale
    lower = numpy.percentile(futures, 100 * (1 - interval) / 2, axis=0)
    upper = numpy.percentile(futures, 100 * (1 + interval) / 2, axis=0)
    return yhat.tolist(), lower.tolist(), upper.tolist()


def _piecewise_linear(t, deltas, k, m, changepoints_t):
    deltas_t = (changepoints_t[None, :] <= t[..., None]) * deltas
    return (deltas_t.sum(axis=1) + k) * t + (deltas_t * -changepoints_t).sum(axis=1) + m

