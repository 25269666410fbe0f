"""One row per backup taken: where it went, how big, and whether a restore of it matched the database."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class Backup(db.Model):
    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # sqlite | postgresql
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # Rows per table in the database at the moment of the copy (the snapshot the copy was taken from).
    row_counts: Mapped[dict | None] = mapped_column(JSON)
    verified: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def total_rows(self) -> int:
        return sum((self.row_counts or {}).values())
