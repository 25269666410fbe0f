"""Chart.js configs built on the server.

A template draws a chart with `<canvas data-chart='{{ chart|tojson }}'>` (single quotes: tojson escapes them);
static/app.js hands the config to Chart.js, installed from package.json. Values must be plain JSON numbers,
so money is passed as float here: a chart is a picture, the tables beside it carry the exact figures.
"""
from collections.abc import Iterable, Sequence

PALETTE = ("#2f6fdf", "#e07b39", "#3a9d5d", "#b8486b", "#7d5fc4", "#8a8f98", "#c9a227", "#2aa3b3")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def number(value) -> float | int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else round(float(value), 2)


def series(label: str, values: Iterable, index: int = 0, **options) -> dict:
    """One dataset; options are Chart.js dataset options (fill, borderDash, type ...), plus ``legend=False`` to
    leave it out of the legend (the lower edge of a band, say; app.js reads it)."""
    return {
        "label": label,
        "data": [number(v) for v in values],
        "borderColor": colour(index),
        "backgroundColor": colour(index),
        "pointRadius": 0,
        "borderWidth": 2,
        **options,
    }


def _options(y_title: str | None, stacked: bool = False, horizontal: bool = False) -> dict:
    value_axis = {"beginAtZero": True, "stacked": stacked}
    if y_title:
        value_axis["title"] = {"display": True, "text": y_title}
    options = {
        "animation": False,
        "interaction": {"mode": "index", "intersect": False},
        "plugins": {"legend": {"position": "bottom", "labels": {"boxWidth": 12}}},
        "scales": {"x": {"stacked": stacked, "ticks": {"maxTicksLimit": 8, "autoSkip": True}},
                   "y": value_axis},
    }
    if horizontal:
        options["indexAxis"] = "y"
        options["scales"] = {"x": value_axis, "y": {"stacked": stacked, "ticks": {"autoSkip": False}}}
    return options


def line_chart(labels: Sequence[str], datasets: list[dict], y_title: str | None = None) -> dict:
    return {"type": "line", "data": {"labels": list(labels), "datasets": datasets}, "options": _options(y_title)}


def bar_chart(labels: Sequence[str], datasets: list[dict], y_title: str | None = None,
              horizontal: bool = False, stacked: bool = False) -> dict:
    return {
        "type": "bar",
        "data": {"labels": list(labels), "datasets": datasets},
        "options": _options(y_title, stacked=stacked, horizontal=horizontal),
    }


def doughnut_chart(labels: Sequence[str], values: Iterable) -> dict:
    labels = list(labels)
    return {
        "type": "doughnut",
        "data": {"labels": labels, "datasets": [{
            "data": [number(v) for v in values],
            "backgroundColor": [colour(i) for i in range(len(labels))],
        }]},
        "options": {"animation": False, "plugins": {"legend": {"position": "bottom", "labels": {"boxWidth": 12}}}},
    }
