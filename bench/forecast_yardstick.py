"""The forecast benchmark's yardstick job: one default Prophet fit and 90-day prediction of a two-year series,
with no database, so the machine's own speed can be divided out of the figures."""
import math
import random

_frame = None


def one_prophet_fit() -> int:
    global _frame
    import pandas as pd
    from prophet import Prophet

    from webapp.forecasting.predict import quiet_prophet

    quiet_prophet()
    if _frame is None:
        rng = random.Random(5)
        values = [max(0, round(rng.gauss(5 + 2 * math.sin(i / 58), 2))) for i in range(730)]
        _frame = pd.DataFrame({"ds": pd.date_range("2024-11-22", periods=730, freq="D"), "y": values})
    model = Prophet()
    model.fit(_frame)
    model.predict(model.make_future_dataframe(90, include_history=False))
    return 1
