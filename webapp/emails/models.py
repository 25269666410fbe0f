"""The email outbox: every message the shop sends is a row first, then a job delivers it exactly once."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.timekeeping import utcnow

EMAIL_STATUSES = ("queued", "sending", "sent", "failed")


class OutgoingEmail(db.Model):
    __tablename__ = "outgoing_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is about, once: "confirmation:SO-000042". A second request for it is ignored.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    attachment_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # The RQ execution ("<job id>:<execution id>") sending it: another may take over once RQ counts it dead.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # Set just before the message body goes to the SMTP server: from here a dead sender may have sent it.
    handover_started_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    # Tells the flush to write a new order before its messages (intake writes both in one flush).
    order: Mapped["Order | None"] = relationship()  # noqa: F821
