"""SQLite transactions that write take the write lock up front, and wait for it in a queue that wakes them.

pysqlite starts transactions lazily and a read that later upgrades to a write fails at once with
"database is locked" when another writer got there first (the busy timeout does not apply to the upgrade).
Requests that may write therefore begin with BEGIN IMMEDIATE and wait their turn; read-only requests use a
plain BEGIN so that the board and lists never queue behind writers (WAL lets them read meanwhile).

How they wait matters as much: SQLite's busy handler sleeps 1, 2, 5 ... 100 ms between tries and never learns that
the lock came free, so with 8 writers in 2 processes the lock lay idle while they slept and a writer that was
unlucky slept for seconds. Writers therefore first queue on an OS file lock beside the database (see
webapp.write_turns), which wakes the next one the moment the last one commits, in any process; the busy timeout
stays as the fallback for anything that does not queue there (the sqlite3 shell, a restore).
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp import write_turns

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 30_000
_reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)


def reads_only(view):
    """Mark a POST view that only reads (a live preview, say), so it does not queue for the write lock."""
    view.reads_only = True
    return view


@contextmanager
def reading_only():
    """Transactions begun inside only read, even in a request that writes (its work after the commit, say)."""
    token = _reading_only.set(True)
    try:
        yield
    finally:
        _reading_only.reset(token)


def _request_reads_only() -> bool:
    if _reading_only.get():
        return True
    if not has_request_context():
        return False
    if request.method in READ_ONLY_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "reads_only", False)


def install(engine: Engine) -> None:
    """Attach the connect and begin hooks to an SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    lock_path = write_turns.lock_path_for(engine.url.database)

    @event.listens_for(engine, "do_connect")
    def _queueing_connection(_dialect, _record, _args, kwargs):
        if lock_path is not None:
            kwargs["factory"] = write_turns.queueing_connection(lock_path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _request_reads_only():
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        if not isinstance(dbapi_connection, write_turns.QueueingConnection):  # :memory:, or a connection made elsewhere
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        dbapi_connection.wait_for_write_turn()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.end_write_turn()
            raise
