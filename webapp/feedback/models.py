"""What customers said about a delivered order, from the signed link in the feedback email."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timekeeping import utcnow


class OrderFeedback(db.Model):
    __tablename__ = "order_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_one_to_five"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    order: Mapped["Order"] = relationship()  # noqa: F821
