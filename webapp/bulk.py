"""Writing many rows at once (the demo shop, history imports): ids given out up front, as the database would, and
rows written in one go: COPY on PostgreSQL, one executemany on SQLite."""
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    Numeric,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from webapp.extensions import db


@contextmanager
def rare_garbage_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while bulk work runs, as before afterwards.

    A batch's rows are many small objects that live until it is written; the collector's usual pace walks them,
    and the whole application, again and again: a third of a PostgreSQL import's time. Batches free themselves
    by reference counting, so memory stays flat. A history import's batch is some 150,000 objects: collecting
    every 50,000 new ones still walked each batch about three times (a twentieth of an import's CPU), so the
    collector waits for more than a batch holds.
    """
    before = gc.get_threshold()
    gc.set_threshold(500_000, 20, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def larger_sqlite_cache(megabytes: int = 64):
    """On SQLite, keep up to ``megabytes`` of the database in memory while bulk work runs, as before afterwards.

    SQLite's default 2 MB cache no longer holds the orders' indexes once a shop has some 100,000 orders, and every
    insert then reads their pages again: a fifth of a large import's time. PostgreSQL has its own shared buffers.
    """
    return _sqlite_setting("cache_size", -megabytes * 1024)  # negative: in kibibytes


def rarer_sqlite_checkpoints(pages: int = 25_000):
    """On SQLite, let the write-ahead log grow to ``pages`` (about 100 MB) before a commit copies it into the
    database, as before afterwards.

    At the usual 1,000 pages every batch's commit copied its pages into the database file and synced it twice; an
    order index's page changed by each batch was copied once per batch. Bulk work commits its batches a fifth as
    often that way; the commit after it copies what is left, as any commit would.
    """
    return _sqlite_setting("wal_autocheckpoint", pages)


@contextmanager
def _sqlite_setting(pragma: str, value: int) -> Iterator[None]:
    """An SQLite setting of the session's connection (it belongs to the connection, not the session) changed while
    the block runs, and put back after; nothing on other databases."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    sqlite = connection.connection.dbapi_connection
    before = sqlite.execute(f"PRAGMA {pragma}").fetchone()[0]
    sqlite.execute(f"PRAGMA {pragma} = {int(value)}")
    try:
        yield
    finally:
        sqlite.execute(f"PRAGMA {pragma} = {int(before)}")


# The id statements, built once (per table on SQLite): intake asks for an order's id on every order.
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
_LARGEST_ID: dict = {}


def new_ids(model, count: int) -> list[int]:
    """Ids for ``count`` new rows, given out as the database would: from the table's sequence on PostgreSQL (so
    later inserts never collide), after the largest id on SQLite (the CLI's transaction began with BEGIN
    IMMEDIATE and holds the write lock, see sqlite_locking)."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        return sorted(db.session.scalars(_NEXT_IDS, {"table": table.name, "count": count}))
    largest = _LARGEST_ID.get(table.name)
    if largest is None:
        largest = _LARGEST_ID[table.name] = select(func.coalesce(func.max(table.c.id), 0))
    first = db.session.scalar(largest) + 1
    return list(range(first, first + count))


def is_one_of(column, values: set | list):
    """``column IN values`` with one parameter however many the values: on PostgreSQL an array (``= ANY``), on
    SQLite a JSON list read by json_each. A batch's thousands of separate parameters cost more to render, send and
    parse than the look-up itself (each count of them a statement of its own, never cached)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(listed.c.value))


def insert_rows(model, rows: list[dict] | list[tuple], keys: list[str] | None = None) -> None:
    """Write ``rows`` into the model's table in the session's transaction: dicts with the same keys, or tuples of
    the columns named by ``keys`` in that order (what a caller making many rows builds most cheaply).

    Rows skip the ORM and SQLAlchemy's per-row parameter handling, which cost more than the writes themselves;
    each column's own bind processor still turns the values into what SQLAlchemy would have sent.
    """
    if not rows:
        return
    table = model.__table__
    connection = db.session.connection()
    dialect = connection.dialect
    if keys is None:
        keys = list(rows[0])
        columns = [[row[key] for row in rows] for key in keys]
    elif dialect.name == "postgresql" and all(_converter(table.c[key].type, dialect) is None for key in keys):
        _copy(connection, table, keys, rows)  # tuples psycopg takes as they are (an order's lines, its events)
        return
    else:
        columns = list(zip(*rows, strict=True))
    if dialect.name == "postgresql":
        _copy(connection, table, keys, _bound_values(table, keys, columns, dialect))
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    if not compiled.positional:  # not SQLite's sqlite3: SQLAlchemy's own executemany
        connection.execute(insert(table), [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)])
        return
    order = [keys.index(compiled.binds[name].key) for name in compiled.positiontup]
    keys, columns = [keys[i] for i in order], [columns[i] for i in order]
    connection.exec_driver_sql(compiled.string, _bound_values(table, keys, columns, dialect))


@contextmanager
def rows_written_as_made(model, keys: list[str]) -> Iterator[Callable[[tuple], None]]:
    """A function taking rows (tuples of the columns named by ``keys``) for the model's table as the block makes them.

    On PostgreSQL each row goes into a COPY at once, so the server stores the first rows while the block still makes
    the rest: a history import's batch made its rows, then waited for the server to store them. The block must not use
    the session meanwhile (the COPY holds its connection). Elsewhere the rows are written when the block ends, as
    insert_rows would. A block that fails writes nothing.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        rows: list[tuple] = []
        yield rows.append
        insert_rows(model, rows, keys)
        return
    table = model.__table__
    converted = [(index, convert) for index, key in enumerate(keys)
                 if (convert := _converter(table.c[key].type, dialect)) is not None]
    with _copying(connection, table, keys) as copy:
        write_row = copy.write_row
        if not converted:
            yield write_row
            return

        def write(row: tuple) -> None:
            values = list(row)
            for index, convert in converted:
                values[index] = convert(values[index])
            write_row(values)
        yield write


def _copy(connection, table, keys: list[str], values: list[tuple]) -> None:
    """COPY streams the rows in one command: several times faster than psycopg's pipelined executemany."""
    with _copying(connection, table, keys) as copy:
        for row in values:
            copy.write_row(row)


@contextmanager
def _copying(connection, table, keys: list[str]):
    """An open COPY into ``table``'s ``keys`` on the session's own connection, so inside its transaction."""
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(table.c[key].name) for key in keys)
    statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            yield copy
    finally:
        cursor.close()


def _bound_values(table, keys: list[str], columns: list, dialect) -> list[tuple]:
    """The rows as tuples in ``keys`` order from their ``columns``' values, each passed through its column's bind
    processor."""
    for index, key in enumerate(keys):
        convert = _converter(table.c[key].type, dialect)
        if convert is not None:
            columns[index] = list(map(convert, columns[index]))
    return list(zip(*columns, strict=True))


def _converter(column_type, dialect):
    """The column's bind processor for a value, None kept as NULL; None when the column needs none."""
    processor = column_type._cached_bind_processor(dialect)
    if processor is None:
        return None
    if isinstance(column_type, DateTime | Date):
        return _remembering(processor)  # which gives None for None itself
    if type(column_type) in (Numeric, Float, Double, Boolean):  # these too
        return processor
    convert = _empty_once(processor, dialect) if isinstance(column_type, JSON) else processor

    def keeping_null(value):  # JSON's processor turns None into JSON's null, another type's may too
        return None if value is None else convert(value)
    return keeping_null


def _remembering(processor):
    """The processor, each value converted once: SQLite's text for a time or a day costs more than the look-up,
    and an order's time repeats (created, updated), its day more so."""
    done: dict = {}

    def convert(value):
        try:
            return done[value]
        except KeyError:
            result = done[value] = processor(value)
            return result
    return convert


def _empty_once(processor, dialect):
    """The processor, with an empty list (what most rows' JSON holds: no hold reasons) serialised once; on
    PostgreSQL as the text psycopg would send for it, which COPY otherwise works out again for every row."""
    empty = processor([])
    if dialect.name == "postgresql" and isinstance(empty, Json) and empty.dumps is None:
        empty = json.dumps(empty.obj)  # what psycopg's JSON dumper sends when no dumps function is set

    def convert(value):
        return empty if value == [] else processor(value)
    return convert
