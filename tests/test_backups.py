"""Backups: a consistent copy while orders come in, checked by a restore, pruned, shown, and restored on demand."""
import gzip
import os
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, delete, func, select, text

from tests.factories import new_order
from webapp.backups import service
from webapp.backups.models import Backup
from webapp.extensions import db
from webapp.models import Order


@pytest.fixture
def backup_dir(tmp_path):
    return str(tmp_path / "backups")


@pytest.fixture
def app(make_app, backup_dir, request):
    marker = request.node.get_closest_marker("app_config")
    app = make_app(BACKUP_DIR=backup_dir, **(marker.kwargs if marker else {}))
    with app.app_context():
        yield app


@contextmanager
def restored_copy(path: str):
    """An engine on a scratch database restored from the backup at ``path``."""
    if service.database_kind() == "sqlite":
        with tempfile.TemporaryDirectory() as scratch_dir:
            scratch = os.path.join(scratch_dir, "copy.sqlite3")
            service._unpack_sqlite(path, scratch)
            engine = create_engine(f"sqlite:///{scratch}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    source = db.engine.url
    name = f"{source.database}_copy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url, env = service._libpq(source.set(database=name))
    engine = create_engine(source.set(database=name))
    try:
        service._run(["pg_restore", "--no-owner", f"--dbname={url}", path], env, "pg_restore")
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_taken_while_orders_come_in_restores_to_a_consistent_shop(app, make_product):
    make_product("BK-MUG", stock=100_000)
    stop = threading.Event()
    taken, failures = [], []

    def take_orders():
        with app.app_context():
            try:
                while not stop.is_set():
                    taken.append(new_order("BK-MUG", 1).number)
            except Exception as error:  # noqa: BLE001 - reported by the test below
                failures.append(repr(error))
            finally:
                db.session.remove()

    def wait_for(count):
        deadline = time.monotonic() + 60
        while len(taken) < count and not failures and time.monotonic() < deadline:
            stop.wait(0.02)
        assert not failures and len(taken) >= count, failures

    writer = threading.Thread(target=take_orders)
    writer.start()
    try:
        wait_for(5)  # the writer is well under way before the copy starts
        record = service.take_backup()
        during = len(taken)
        wait_for(during + 5)  # and carries on after it
    finally:
        stop.set()
        writer.join(timeout=60)

    assert record.error is None and record.verified
    assert os.path.getsize(os.path.join(app.config["BACKUP_DIR"], record.file_name)) == record.size_bytes
    assert 0 < record.row_counts["orders"] < len(taken)
    with restored_copy(os.path.join(app.config["BACKUP_DIR"], record.file_name)) as copy, copy.connect() as conn:
        for table, count in record.row_counts.items():
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == count, table
        # The ledger equals the counters, and every line and event belongs to an order in the copy.
        mismatched = conn.execute(text(
            "SELECT p.sku FROM products p LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS on_hand, "
            "sum(reserved_delta) AS reserved FROM stock_movements GROUP BY product_id) m ON m.product_id = p.id "
            "WHERE p.on_hand != coalesce(m.on_hand, 0) OR p.reserved != coalesce(m.reserved, 0)")).all()
        assert mismatched == []
        assert conn.execute(text("SELECT count(*) FROM order_lines WHERE order_id NOT IN "
                                 "(SELECT id FROM orders)")).scalar_one() == 0
        reserved = conn.execute(text("SELECT reserved FROM products WHERE sku = 'BK-MUG'")).scalar_one()
        confirmed = conn.execute(text("SELECT count(*) FROM orders WHERE status = 'confirmed'")).scalar_one()
        assert reserved == confirmed == record.row_counts["orders"]


@pytest.mark.app_config(BACKUP_KEEP=2)
def test_only_the_newest_backups_are_kept(app, runner, make_product):
    make_product("BK-MUG", stock=5)
    names = []
    for _ in range(4):
        result = runner.invoke(args=["backup"])
        assert result.exit_code == 0, result.output
        assert "verified" in result.output
        names.append(db.session.scalars(select(Backup.file_name).order_by(Backup.id.desc())).first())
    assert sorted(os.listdir(app.config["BACKUP_DIR"])) == sorted(names[-2:])
    assert len(set(names)) == 4


def test_restore_puts_the_shop_back_as_it_was_after_confirmation(app, runner, make_product):
    make_product("BK-MUG", stock=5)
    new_order("BK-MUG", 1)
    record = service.take_backup()
    path = os.path.join(app.config["BACKUP_DIR"], record.file_name)
    new_order("BK-MUG", 1)
    new_order("BK-MUG", 1)

    refused = runner.invoke(args=["restore", path], input="n\n")
    assert refused.exit_code != 0 and "Replace everything" in refused.output
    db.session.remove()
    assert db.session.scalar(select(func.count(Order.id))) == 3

    result = runner.invoke(args=["restore", path], input="y\n")
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.scalar(select(func.count(Backup.id))) == 0  # the copy was taken before its own record
    new_order("BK-MUG", 1)  # and the shop carries on taking orders
    assert db.session.scalar(select(func.count(Order.id))) == 2


def _damaged_copies(app, tmp_path) -> list[str]:
    record = service.take_backup()
    good = os.path.join(app.config["BACKUP_DIR"], record.file_name)
    suffix = service.SUFFIXES[service.database_kind()]
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(b"this is not a backup at all\n" * 100)
    truncated = tmp_path / f"truncated{suffix}"
    with open(good, "rb") as handle:
        truncated.write_bytes(handle.read()[: record.size_bytes // 2])
    paths = [str(garbage), str(truncated)]
    if service.database_kind() == "sqlite":
        # A well-formed SQLite database that is not a shop.
        other = tmp_path / "other.sqlite3"
        import sqlite3

        connection = sqlite3.connect(other)
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
        connection.close()
        with open(other, "rb") as raw, gzip.open(tmp_path / f"other{suffix}", "wb") as packed:
            shutil.copyfileobj(raw, packed)
        paths.append(str(tmp_path / f"other{suffix}"))
    return paths


def test_restore_refuses_a_file_that_is_not_a_whole_backup(app, runner, make_product, tmp_path):
    make_product("BK-MUG", stock=5)
    new_order("BK-MUG", 1)
    for path in _damaged_copies(app, tmp_path) + [str(tmp_path / "missing.sqlite3.gz")]:
        result = runner.invoke(args=["restore", path, "--yes"])
        assert result.exit_code == 1, (path, result.output)
        assert "backup" in result.output or "damaged" in result.output or "does not exist" in result.output
        assert "Traceback" not in result.output
        db.session.remove()
        assert db.session.scalar(select(func.count(Order.id))) == 1  # nothing was touched


def test_a_failed_verification_is_recorded_and_shown(app, runner, client, auth, make_product, monkeypatch):
    make_product("BK-MUG", stock=5)
    new_order("BK-MUG", 1)
    real = service.count_rows_in_copy

    def one_order_lost(path):
        counts = real(path)
        counts["orders"] -= 1
        return counts

    monkeypatch.setattr(service, "count_rows_in_copy", one_order_lost)
    from worker.jobs.backups import BackupFailed, backup_database

    with pytest.raises(BackupFailed, match="Verification failed"):  # the nightly job fails visibly
        backup_database()
    db.session.execute(delete(Backup))
    db.session.commit()
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 1
    assert "orders: 1 in the database, 0 in the copy" in result.output
    record = db.session.scalars(select(Backup)).one()
    assert not record.verified and "Verification failed" in record.error
    assert os.path.exists(os.path.join(app.config["BACKUP_DIR"], record.file_name))  # kept, for a look

    auth.login()
    page = client.get("/settings").get_data(as_text=True)
    assert "failed: Verification failed: orders: 1 in the database, 0 in the copy" in page

    from webapp.alerts.digest import digest_context

    context = digest_context()
    from flask import render_template

    assert "FAILED: Verification failed" in render_template("emails/digest.txt", **context)


def test_the_nightly_job_backs_up_and_settings_and_digest_show_it(app, client, auth, make_product):
    from flask import render_template

    from webapp.alerts.digest import digest_context
    from worker.jobs.backups import backup_database

    make_product("BK-MUG", stock=5)
    result = backup_database()
    assert result["verified"] and result["error"] is None
    auth.login()
    page = client.get("/settings").get_data(as_text=True)
    assert result["file"] in page and "verified by a test restore" in page
    assert f"{result['file']}" in render_template("emails/digest.txt", **digest_context())
