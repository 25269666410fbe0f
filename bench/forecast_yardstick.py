"""The forecast benchmark's yardstick job: one default Prophet fit and 90-day prediction of a two-year series,
with no database, so the machine's own speed can be divided out of the figures. Its workers import Prophet
before they fork (``YardstickWorker``), as the shop's workers did before they stopped needing Prophet's Python
side, so that a job is a fit and not an import."""
import logging
import math
import random

from worker.app import ShopWorker

_frame = None


class YardstickWorker(ShopWorker):
    def work(self, *args, **kwargs):
        quiet_prophet()
        import prophet  # noqa: F401

        quiet_prophet()
        one_prophet_fit()
        return super().work(*args, **kwargs)


def one_prophet_fit() -> int:
    global _frame
    import pandas as pd
    from prophet import Prophet

    quiet_prophet()
    if _frame is None:
        rng = random.Random(5)
        values = [max(0, round(rng.gauss(5 + 2 * math.sin(i / 58), 2))) for i in range(730)]
        _frame = pd.DataFrame({"ds": pd.date_range("2024-11-22", periods=730, freq="D"), "y": values})
    model = Prophet()
    model.fit(_frame)
    model.predict(model.make_future_dataframe(90, include_history=False))
    return 1


def quiet_prophet() -> None:
    """Prophet and cmdstanpy log every fit at INFO, and Prophet warns that plotly (which we don't use) is missing."""
    logging.getLogger("prophet").setLevel(logging.ERROR)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    try:
        from cmdstanpy.utils import get_logger  # configures (and sets INFO on) its logger the first time
    except ImportError:
        return
    get_logger().setLevel(logging.WARNING)
