"""Which platform order became which shop order, so a webhook delivered twice makes one order."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timekeeping import utcnow


class ChannelOrder(db.Model):
    """One row per platform order received. The unique (channel, platform id) pair is claimed in the same
    transaction that takes the order in: a concurrent retry waits on it and then answers with that order."""
    __tablename__ = "channel_orders"
    __table_args__ = (UniqueConstraint("channel", "platform_order_id", name="uq_channel_orders_channel_platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_order_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
