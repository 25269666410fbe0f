"""Alerts: a condition the owner should act on (low stock, an overdue order, a failed job), raised once and
kept open until the condition clears."""
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timekeeping import utcnow

ALERT_KINDS = ("low_stock", "overdue", "at_risk", "failed_job")


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "cleared_at", "kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(120))  # what it is about: "product:MUG-BLU", "order:SO-000042"
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
