"""Take, check, prune and restore backups of the shop's database.

SQLite: the online backup API copies the database from inside one read transaction, so the copy is the same
snapshot the row counts were taken from while writers carry on (WAL). PostgreSQL: a REPEATABLE READ transaction
exports its snapshot, the row counts are read in it and `pg_dump --snapshot` dumps exactly that snapshot.
Every backup is then restored into a scratch database and its row counts compared with the recorded ones.
"""
import gzip
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import URL

from webapp.backups.models import Backup
from webapp.extensions import db
from webapp.sqlite_locking import BUSY_TIMEOUT_MS
from webapp.timekeeping import utcnow

PREFIX = "solo-oms-"
SUFFIXES = {"sqlite": ".sqlite3.gz", "postgresql": ".pgdump"}
SQLITE_HEADER = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
PGDUMP_MAGIC = b"PGDMP"
# Tables every Solo OMS database has; a file without them is not one of our backups.
REQUIRED_TABLES = ("alembic_version", "orders", "products")


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why in the owner's words."""


@dataclass
class Snapshot:
    path: str
    row_counts: dict[str, int]


def database_kind(url: URL | None = None) -> str:
    url = url or db.engine.url
    return "postgresql" if url.get_backend_name() == "postgresql" else "sqlite"


def backup_dir() -> str:
    return current_app.config["BACKUP_DIR"]


def latest_backup() -> Backup | None:
    return db.session.scalars(select(Backup).order_by(Backup.id.desc()).limit(1)).first()


def take_backup() -> Backup:
    """Copy the database into BACKUP_DIR, verify the copy by restoring it, prune old copies; the result is
    recorded as a Backup row whether it worked or not (the error is kept)."""
    kind = database_kind()
    started = utcnow()
    os.makedirs(backup_dir(), exist_ok=True)
    name = f"{PREFIX}{started:%Y%m%d-%H%M%S-%f}{SUFFIXES[kind]}"
    path = os.path.join(backup_dir(), name)
    record = Backup(kind=kind, started_at=started)
    try:
        snapshot = _copy_sqlite(path) if kind == "sqlite" else _dump_postgresql(path)
        record.file_name, record.row_counts = name, snapshot.row_counts
        record.size_bytes = os.path.getsize(path)
        problem = verify_backup(path, snapshot.row_counts)
        record.verified = problem is None
        record.error = problem
    except BackupError as error:
        record.error = str(error)
        if os.path.exists(path) and record.file_name is None:
            os.unlink(path)  # a half-written copy is no backup
    record.finished_at = utcnow()
    db.session.add(record)
    db.session.flush()
    # Detached before the commit, so reading it afterwards does not begin a transaction (on SQLite outside a
    # request that would be BEGIN IMMEDIATE, holding the write lock while the caller looks at the result).
    db.session.expunge(record)
    db.session.commit()
    if record.verified:
        prune_backups(current_app.config["BACKUP_KEEP"])
    return record


def backup_files() -> list[str]:
    """Backup files in BACKUP_DIR, oldest first (the names sort by time)."""
    if not os.path.isdir(backup_dir()):
        return []
    names = [name for name in os.listdir(backup_dir())
             if name.startswith(PREFIX) and name.endswith(tuple(SUFFIXES.values()))]
    return [os.path.join(backup_dir(), name) for name in sorted(names)]


def prune_backups(keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backup files; returns the deleted paths."""
    files = backup_files()
    doomed = files[:-keep] if keep > 0 else []
    for path in doomed:
        os.unlink(path)
    return doomed


# SQLite -------------------------------------------------------------------------------------------------------

def _sqlite_path(url: URL | None = None) -> str:
    path = (url or db.engine.url).database
    if not path or path == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    return path


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def _copy_sqlite(path: str) -> Snapshot:
    source = sqlite3.connect(_sqlite_path(), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    plain = path + ".partial"
    try:
        # One read transaction: the counts and the copy see the same snapshot while writers go on (WAL).
        source.execute("BEGIN")
        counts = _sqlite_counts(source)
        target = sqlite3.connect(plain)
        try:
            source.backup(target)
        finally:
            target.close()
        source.execute("COMMIT")
        with open(plain, "rb") as raw, gzip.open(path + ".tmp", "wb", compresslevel=6) as packed:
            shutil.copyfileobj(raw, packed, 1024 * 1024)
        os.replace(path + ".tmp", path)  # a reader never sees half a file under the final name
    except sqlite3.Error as error:
        raise BackupError(f"The database could not be copied: {error}") from error
    finally:
        source.close()
        for leftover in (plain, path + ".tmp"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return Snapshot(path, counts)


def _unpack_sqlite(path: str, into: str) -> None:
    """Decompress a SQLite backup into ``into`` and check it is a whole Solo OMS database."""
    with open(path, "rb") as handle:
        if handle.read(2) != GZIP_MAGIC:
            raise BackupError(f"{os.path.basename(path)} is not a Solo OMS backup (not a gzip file).")
    try:
        with gzip.open(path, "rb") as packed, open(into, "wb") as raw:
            shutil.copyfileobj(packed, raw, 1024 * 1024)
    except (OSError, EOFError) as error:
        raise BackupError(f"{os.path.basename(path)} is damaged: {error}") from error
    with open(into, "rb") as raw:
        if raw.read(16) != SQLITE_HEADER:
            raise BackupError(f"{os.path.basename(path)} is not a Solo OMS backup (not an SQLite database).")
    connection = sqlite3.connect(into)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"{os.path.basename(path)} is damaged: {result}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{os.path.basename(path)} is damaged: {error}") from error
    finally:
        connection.close()
    missing = [table for table in REQUIRED_TABLES if table not in tables]
    if missing:
        raise BackupError(f"{os.path.basename(path)} is not a Solo OMS backup (no {', '.join(missing)} table).")


def _verify_sqlite(path: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="solo-oms-verify-") as scratch_dir:
        scratch = os.path.join(scratch_dir, "restored.sqlite3")
        _unpack_sqlite(path, scratch)
        connection = sqlite3.connect(scratch)
        try:
            return _sqlite_counts(connection)
        finally:
            connection.close()


def _restore_sqlite(path: str) -> None:
    target_path = _sqlite_path()
    scratch = f"{target_path}.restore-{uuid.uuid4().hex}"
    try:
        _unpack_sqlite(path, scratch)
        db.session.remove()
        db.engine.dispose()
        # The backup API writes the pages into the live file under SQLite's own locks (WAL and -shm stay
        # coherent for any process that has it open), instead of swapping the file behind their backs.
        source = sqlite3.connect(scratch)
        target = sqlite3.connect(target_path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            source.backup(target)
        except sqlite3.Error as error:
            raise BackupError(f"The database could not be replaced: {error}") from error
        finally:
            target.close()
            source.close()
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


# PostgreSQL ---------------------------------------------------------------------------------------------------

def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq connection string for the client tools, with the password in the environment, not argv."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(arguments: list[str], env: dict, what: str) -> str:
    try:
        finished = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as error:
        raise BackupError(f"{arguments[0]} is not installed.") from error
    if finished.returncode != 0:
        raise BackupError(f"{what} failed: {finished.stderr.strip()[-500:]}")
    return finished.stdout


def _postgres_counts(connection) -> dict[str, int]:
    tables = sorted(inspect(connection).get_table_names())
    return {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() for table in tables}


def _dump_postgresql(path: str) -> Snapshot:
    url, env = _libpq(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _postgres_counts(connection)
            # The transaction stays open while pg_dump runs: that keeps the exported snapshot alive.
            _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot_id}", f"--file={path}.tmp",
                  f"--dbname={url}"], env, "pg_dump")
    os.replace(f"{path}.tmp", path)
    return Snapshot(path, counts)


def _check_pgdump(path: str, env: dict) -> None:
    with open(path, "rb") as handle:
        if handle.read(5) != PGDUMP_MAGIC:
            raise BackupError(f"{os.path.basename(path)} is not a Solo OMS backup (not a pg_dump archive).")
    listing = _run(["pg_restore", "--list", path], env, "Reading the backup")
    missing = [table for table in REQUIRED_TABLES if f" TABLE public {table} " not in listing]
    if missing:
        raise BackupError(f"{os.path.basename(path)} is not a Solo OMS backup (no {', '.join(missing)} table).")


def _verify_postgresql(path: str) -> dict[str, int]:
    source = db.engine.url
    scratch_name = f"{source.database}_verify_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source, isolation_level="AUTOCOMMIT")
    url, env = _libpq(source.set(database=scratch_name))
    try:
        _check_pgdump(path, env)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{scratch_name}"'))
        try:
            _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", path], env, "Restoring the backup")
            scratch = create_engine(source.set(database=scratch_name))
            try:
                with scratch.connect() as connection:
                    return _postgres_counts(connection)
            finally:
                scratch.dispose()
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _restore_postgresql(path: str) -> None:
    url, env = _libpq(db.engine.url)
    _check_pgdump(path, env)
    db.session.remove()
    db.engine.dispose()
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={url}", path], env, "pg_restore")


# Both ---------------------------------------------------------------------------------------------------------

def count_rows_in_copy(path: str) -> dict[str, int]:
    """Restore the backup into a scratch database and count its rows per table."""
    return _verify_sqlite(path) if path.endswith(SUFFIXES["sqlite"]) else _verify_postgresql(path)


def verify_backup(path: str, expected: dict[str, int]) -> str | None:
    """None when the restored copy has exactly the recorded rows per table, else what differs."""
    try:
        restored = count_rows_in_copy(path)
    except BackupError as error:
        return f"Verification failed: {error}"
    differences = [f"{table}: {expected.get(table, 'no table')} in the database, "
                   f"{restored.get(table, 'no table')} in the copy"
                   for table in sorted(set(expected) | set(restored)) if expected.get(table) != restored.get(table)]
    return ("Verification failed: " + "; ".join(differences)) if differences else None


def check_backup_file(path: str) -> None:
    """Raise BackupError unless ``path`` is a backup this database can be restored from."""
    if not os.path.isfile(path):
        raise BackupError(f"{path} does not exist.")
    kind = database_kind()
    with open(path, "rb") as handle:
        start = handle.read(5)
    if kind == "sqlite" and start.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{os.path.basename(path)} is a PostgreSQL backup; this shop runs on SQLite.")
    if kind == "postgresql" and start.startswith(GZIP_MAGIC):
        raise BackupError(f"{os.path.basename(path)} is an SQLite backup; this shop runs on PostgreSQL.")


def restore_backup(path: str) -> None:
    """Replace the configured database's contents with the backup's; the file is checked before anything is
    touched."""
    check_backup_file(path)
    if database_kind() == "sqlite":
        _restore_sqlite(path)
    else:
        _restore_postgresql(path)
