"""Writing many rows at once (the demo shop, history imports): ids given out up front, as the database would."""
from sqlalchemy import func, select, text

from webapp.extensions import db


def new_ids(model, count: int) -> list[int]:
    """Ids for ``count`` new rows, given out as the database would: from the table's sequence on PostgreSQL (so
    later inserts never collide), after the largest id on SQLite (the CLI's transaction began with BEGIN
    IMMEDIATE and holds the write lock, see sqlite_locking)."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        return sorted(db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count}))
    first = db.session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(first, first + count))
