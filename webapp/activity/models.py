"""The activity log: one row per thing written, saying who changed what, when, old → new."""
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timekeeping import utcnow

# What the log can be filtered by, in the shop's words (the page's "kind of thing").
KINDS = {
    "order": "Orders", "stock": "Stock", "product": "Products", "customer": "Customers", "invoice": "Invoices",
    "settings": "Settings", "user": "Users", "token": "API tokens", "webhook": "Webhooks out", "import": "Imports",
}


class ActivityEntry(db.Model):
    __tablename__ = "activity_entries"
    __table_args__ = (
        # Newest first, whole log or one kind or one person: each filter walks its own index backwards. No more
        # indexes than these: every write in the shop pays for each one.
        Index("ix_activity_entries_at", "at", "id"),
        Index("ix_activity_entries_kind_at", "kind", "at"),
        Index("ix_activity_entries_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))  # an email, "x@y (API token soms_abc…)", "cli", "job:<id>" ...
    actor_user_id: Mapped[int | None]  # no foreign key: the log outlives a removed user
    kind: Mapped[str] = mapped_column(String(16))  # one of KINDS
    action: Mapped[str] = mapped_column(String(16))  # created, changed, deleted, imported
    thing_id: Mapped[int | None]
    # SO-000123, a SKU, an email ...: searched by substring, which no index would help.
    thing_ref: Mapped[str] = mapped_column(String(200), default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [old, new], as text; secrets redacted
    note: Mapped[str] = mapped_column(Text, default="")
