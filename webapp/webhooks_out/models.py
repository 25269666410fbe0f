"""Webhook endpoints the owner configured, and every delivery to them (a row first, then a job sends it)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timekeeping import utcnow

EVENTS = ("order.created", "order.status_changed", "stock.low")
# queued -> sending -> delivered; a failed attempt is "retrying" while automatic retries remain, then "failed".
DELIVERY_STATUSES = ("queued", "sending", "retrying", "delivered", "failed")


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Shown to the owner to set up the receiver; the body's HMAC-SHA256 with it is sent in X-SoloOMS-Signature.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent as X-SoloOMS-Delivery and in the body: the receiver can recognise a repeat of the same delivery.
    delivery_key: Mapped[str] = mapped_column(String(36), unique=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    # The exact bytes signed and sent, fixed when the event happened.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the current attempt began: a worker killed mid-send leaves "sending", claimable again after a while.
    sending_since: Mapped[datetime | None]
    response_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    webhook: Mapped[Webhook] = relationship()

    @property
    def can_send_again(self) -> bool:
        """Failed for good, or cut off mid-send (see outbox.STUCK_AFTER)."""
        from webapp.webhooks_out.outbox import STUCK_AFTER

        return self.status == "failed" or (
            self.status == "sending" and self.sending_since is not None
            and self.sending_since < utcnow() - STUCK_AFTER)
