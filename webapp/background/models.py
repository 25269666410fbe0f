"""Work waiting to be handed to RQ."""
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timekeeping import utcnow


class PendingJob(db.Model):
    __tablename__ = "pending_jobs"
    __table_args__ = (Index("ix_pending_jobs_waiting", "enqueued_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    function: Mapped[str] = mapped_column(String(200))  # dotted path of a function in worker/jobs/
    args: Mapped[list] = mapped_column(JSON, default=list)
    job_id: Mapped[str] = mapped_column(String(200), unique=True)  # deterministic: one job per piece of work
    queue: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
