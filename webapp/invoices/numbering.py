"""Gapless document numbers: INV-2026-00042.

The counter row is incremented with UPDATE … RETURNING inside the caller's transaction, so the row stays locked
until that transaction ends: concurrent issuers queue, and a rolled-back invoice gives its number back.
"""
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.extensions import db
from webapp.invoices.models import SERIES, DocumentSequence


def next_document_number(kind: str, year: int) -> str:
    series = SERIES[kind]
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(DocumentSequence).values(series=series, year=year, last_number=0).on_conflict_do_nothing()
    )
    number = db.session.execute(
        update(DocumentSequence)
        .where(DocumentSequence.series == series, DocumentSequence.year == year)
        .values(last_number=DocumentSequence.last_number + 1)
        .returning(DocumentSequence.last_number)
    ).scalar_one()
    return f"{series}-{year}-{number:05d}"
