"""Stored demand forecasts (one current forecast per product) and the days whose sales looked unusual."""
from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.forecasting.predict import HORIZON_DAYS
from webapp.timekeeping import utcnow


class DemandForecast(db.Model):
    """The latest forecast of a product's daily demand, and what it means for reordering.

    Quantities are units; forecasts are floats (they are estimates, not money).
    """

    __tablename__ = "demand_forecasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), unique=True)
    # The day the advice is for: the nightly run moves it on every night, refitted or not.
    as_of: Mapped[date]
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    model: Mapped[str] = mapped_column(String(32))  # prophet | fallback
    model_note: Mapped[str] = mapped_column(Text, default="")
    history_days: Mapped[int] = mapped_column(default=0)
    # The day the model was last fitted (None for forecasts stored before fit days were kept: refitted next),
    # and why that night refitted it or kept it (shown on the product page).
    fitted_on: Mapped[date | None]
    refit_note: Mapped[str] = mapped_column(Text, default="")
    # [{"date": "YYYY-MM-DD", "yhat": float, "lower": float, "upper": float}, ...] from fitted_on: 90 days and a
    # week more, so a forecast kept for a few nights still covers 90 days ahead and can be checked against the
    # sales since its fit. Read it through points_from().
    points: Mapped[list] = mapped_column(JSON, default=list)
    # Backtest on the last 28 days before as_of: the model against a seasonal-naive baseline.
    backtest_mae: Mapped[float | None] = mapped_column(Float)
    backtest_mase: Mapped[float | None] = mapped_column(Float)
    baseline_mae: Mapped[float | None] = mapped_column(Float)
    baseline_mase: Mapped[float | None] = mapped_column(Float)
    # Units sold in the backtest window over units the backtest model expected: far from 1 = demand shifted.
    demand_shift: Mapped[float | None] = mapped_column(Float)
    # The backtest is redone weekly (a refit without the last 28 days costs as much as the forecast itself).
    backtested_on: Mapped[date | None]
    # The decision: when stock runs out (with a likely range), when to reorder, how much.
    available_at_run: Mapped[int] = mapped_column(default=0)
    stockout_date: Mapped[date | None]
    stockout_earliest: Mapped[date | None]
    stockout_latest: Mapped[date | None]
    reorder_by: Mapped[date | None]
    reorder_point: Mapped[int] = mapped_column(default=0)
    reorder_qty: Mapped[int] = mapped_column(default=0)
    safety_stock: Mapped[int] = mapped_column(default=0)
    # What the owner was last emailed about, so a nightly run only writes when the advice changes materially.
    notified_reorder_point: Mapped[int | None]
    notified_reorder_qty: Mapped[int | None]
    notified_reorder_by: Mapped[date | None]
    notified_at: Mapped[datetime | None]

    product: Mapped["Product"] = relationship()  # noqa: F821

    def points_from(self, day: date) -> list[dict]:
        """The forecast's 90 days from ``day`` (fewer if it runs out)."""
        if not self.points:
            return []
        skip = max(0, (day - date.fromisoformat(self.points[0]["date"])).days)
        return self.points[skip:skip + HORIZON_DAYS]


class SalesAnomaly(db.Model):
    """A day whose orders or revenue fell outside the forecast interval made without it."""

    __tablename__ = "sales_anomalies"
    __table_args__ = (UniqueConstraint("day", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    measure: Mapped[str] = mapped_column(String(16))  # orders | revenue
    actual: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    lower: Mapped[float] = mapped_column(Float)
    upper: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
