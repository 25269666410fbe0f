"""A print run: several orders' invoices or packing slips made into one PDF by the worker."""
from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from webapp.extensions import db
from webapp.timekeeping import utcnow

PRINT_KINDS = {"invoices": "Invoices", "packing_slips": "Packing slips"}


class PrintRun(db.Model):
    __tablename__ = "print_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    order_numbers: Mapped[list] = mapped_column(JSON)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)  # the RQ job; its meta holds the progress
    requested_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    skipped: Mapped[list] = mapped_column(JSON, default=list)  # orders that had nothing to print, with why
    error: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    @property
    def title(self) -> str:
        return PRINT_KINDS[self.kind]

    @property
    def filename(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.created_at:%Y%m%d-%H%M}.pdf"
