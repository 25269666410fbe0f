"""SQLite writers take turns on the lock file beside the database: across threads and processes they are serialized
by it alone, every way a transaction ends gives the turn back, readers never queue, and no order is lost."""
import fcntl
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from webapp import write_turns
from webapp.auth.tokens import create_api_token
from webapp.extensions import db
from webapp.models import Order, Product, StockMovement

pytestmark = pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                                reason="SQLite's write lock; PostgreSQL locks rows")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lock_path() -> str:
    return write_turns.lock_path_for(db.engine.url.database)


def _turn_is_free() -> bool:
    """No writer holds a turn: another open file of the lock file gets it without waiting."""
    with open(_lock_path(), "ab") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def _run_children(script: str, count: int, env: dict) -> list[dict]:
    """Run ``script`` in ``count`` fresh Python processes at once; each prints one JSON line."""
    children = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env})
                for _ in range(count)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


# Each child: the app on the test database with SQLite's busy handler switched off (busy_timeout 0), so a writer
# that ever found the write lock taken would fail at once with "database is locked": only the turns order them.
CHILD_APP = """
    import json, os, threading
    from sqlalchemy import event
    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["TURNS_DATABASE"], "REDIS_URL": os.environ["TURNS_REDIS"],
                      "SECRET_KEY": "t", "TESTING": True, "RATELIMIT_ENABLED": False})
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _no_busy_wait(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=0")
"""


def test_orders_from_two_processes_of_four_threads_are_all_kept_with_no_busy_wait(app, make_user, make_product,
                                                                                 redis_server):
    token = create_api_token(make_user(), ["orders:write", "orders:read"])
    db.session.commit()
    make_product("LAST-UNITS", stock=30)
    make_product("PLENTY", stock=1000)
    script = CHILD_APP + """
    def buyer(thread, answers):
        client = app.test_client()
        for n in range(10):
            who = f"{os.getpid()}-{thread}-{n}"
            body = {"customer": {"name": f"Buyer {who}", "email": f"b{who}@example.com",
                                 "address": {"line1": "1 Road", "city": "Leeds", "country": "GB"}},
                    "lines": [{"sku": "LAST-UNITS", "quantity": 1}, {"sku": "PLENTY", "quantity": 2}]}
            response = client.post("/api/v1/orders", json=body, headers={
                "Authorization": "Bearer " + os.environ["TURNS_TOKEN"], "Idempotency-Key": who})
            answers.append((response.status_code, response.get_json().get("status")))

    answers = []
    threads = [threading.Thread(target=buyer, args=(i, answers)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"answers": answers}))
    """
    results = _run_children(script, 2, {"TURNS_DATABASE": str(db.engine.url), "TURNS_REDIS": redis_server["url"],
                                        "TURNS_TOKEN": token})

    answers = [tuple(answer) for result in results for answer in result["answers"]]
    assert len(answers) == 80
    assert {status for status, _ in answers} == {201}, answers
    assert sorted(state for _, state in answers).count("confirmed") == 30
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 80
    last, plenty = (db.session.scalars(select(Product).where(Product.sku == sku)).one()
                    for sku in ("LAST-UNITS", "PLENTY"))
    assert (last.on_hand, last.reserved) == (30, 30)
    assert plenty.reserved == 60
    reserved_movements = db.session.scalar(select(func.count(StockMovement.id)).where(
        StockMovement.kind == "reserve", StockMovement.product_id == last.id))
    assert reserved_movements == 30
    from tests.test_stock_ledger import assert_ledger_matches
    assert_ledger_matches()
    db.session.rollback()
    assert _turn_is_free()


def test_writers_in_two_processes_never_overlap_and_no_increment_is_lost(app):
    db.session.execute(text("CREATE TABLE IF NOT EXISTS turn_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
    db.session.execute(text("INSERT INTO turn_probe (id, n) VALUES (1, 0)"))
    db.session.commit()
    script = CHILD_APP + """
    import time
    from sqlalchemy import text

    spans, failures = [], []

    def writer():
        with app.app_context():
            for _ in range(25):
                try:
                    with db.engine.begin() as connection:
                        began = time.time()
                        n = connection.execute(text("SELECT n FROM turn_probe WHERE id = 1")).scalar()
                        time.sleep(0.002)  # read, think, write: a lost update if two ever overlapped
                        connection.execute(text("UPDATE turn_probe SET n = :n WHERE id = 1"), {"n": n + 1})
                        spans.append((began, time.time()))
                except Exception as error:
                    failures.append(repr(error))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"spans": spans, "failures": failures}))
    """
    try:
        results = _run_children(script, 2, {"TURNS_DATABASE": str(db.engine.url), "TURNS_REDIS": "redis://unused"})
        assert [failure for result in results for failure in result["failures"]] == []
        assert db.session.execute(text("SELECT n FROM turn_probe WHERE id = 1")).scalar() == 200
        spans = sorted(tuple(span) for result in results for span in result["spans"])
        assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), "two writers overlapped"
    finally:
        db.session.rollback()
        db.session.execute(text("DROP TABLE turn_probe"))
        db.session.commit()


def test_every_end_of_a_transaction_gives_the_turn_back(app, make_product):
    product = make_product("MUG-BLU", stock=5)
    db.session.commit()
    assert _turn_is_free()

    db.session.execute(select(Product))  # outside a request every transaction may write: it takes a turn
    assert write_turns.holds_write_turn() and not _turn_is_free()
    db.session.commit()
    assert not write_turns.holds_write_turn() and _turn_is_free()

    product.name = "Blue mug"
    db.session.flush()
    db.session.rollback()
    assert _turn_is_free()

    with pytest.raises(RuntimeError):
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE products SET name = 'x'"))
            raise RuntimeError("a fault mid-transaction")
    assert _turn_is_free()

    connection = db.engine.connect()
    connection.execute(text("UPDATE products SET name = 'y'"))
    connection.invalidate()  # a broken connection is closed, not rolled back through the pool
    connection.close()
    assert _turn_is_free()
    assert db.session.scalar(select(Product.name).where(Product.sku == "MUG-BLU")) == "Product MUG-BLU"
    db.session.rollback()


def test_a_begin_that_fails_gives_the_turn_back(app):
    db.session.rollback()
    outsider = sqlite3.connect(db.engine.url.database, isolation_level=None)  # as the sqlite3 shell: no turn
    connection = db.engine.connect()
    try:
        outsider.execute("BEGIN IMMEDIATE")
        connection.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")
        with pytest.raises(OperationalError, match="locked"):  # the busy timeout still guards against outsiders
            connection.execute(text("SELECT 1"))
        assert _turn_is_free()
    finally:
        outsider.rollback()
        outsider.close()
        connection.close()


def test_a_reader_does_not_queue_behind_a_writer(app, make_user, client):
    make_user()
    client.post("/login", data={"email": "owner@example.com", "password": "a long test password"})
    db.session.commit()
    with open(_lock_path(), "ab") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)  # a writer in another process holds its turn
        answers = []
        reader = threading.Thread(target=lambda: answers.append(client.get("/api/v1/openapi.json").status_code))
        board = threading.Thread(target=lambda: answers.append(client.get("/board").status_code))
        reader.start()
        board.start()
        reader.join(timeout=20)
        board.join(timeout=20)
        fcntl.flock(writer, fcntl.LOCK_UN)
    assert not reader.is_alive() and not board.is_alive(), "a read waited for the writer's turn"
    assert 500 not in answers


def test_a_second_connection_in_the_same_thread_does_not_wait_for_itself(app):
    db.session.rollback()
    first, second = db.engine.connect(), db.engine.connect()
    try:
        first.execute(text("SELECT 1"))  # this thread now holds a turn and SQLite's write lock
        second.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")
        with pytest.raises(OperationalError, match="locked"):  # SQLite's busy timeout answers, as before
            second.execute(text("SELECT 1"))
    finally:
        first.close()
        second.close()
    assert _turn_is_free()


def test_a_forked_child_queues_on_its_own_open_file_behind_its_parent(app):
    db.session.rollback()
    connection = db.engine.connect()
    connection.execute(text("SELECT 1"))  # the parent holds a turn on this connection's open lock file
    queueing = connection.connection.dbapi_connection
    got_turn_read, got_turn_write = os.pipe()
    child = os.fork()
    if child == 0:  # an RQ work horse, say, with the pooled connection it inherited
        try:
            queueing.wait_for_write_turn()
            os.write(got_turn_write, b"turn")
        finally:
            os._exit(0)
    try:
        os.close(got_turn_write)
        os.set_blocking(got_turn_read, False)
        time.sleep(0.3)
        with pytest.raises(BlockingIOError):  # the child waits: its turn is not its parent's
            os.read(got_turn_read, 4)
        connection.commit()
        os.set_blocking(got_turn_read, True)
        assert os.read(got_turn_read, 4) == b"turn"
    finally:
        os.waitpid(child, 0)
        os.close(got_turn_read)
        connection.close()
    assert _turn_is_free()


def test_the_log_is_checkpointed_after_the_turn_so_it_stays_short(app, make_product):
    make_product("MUG-BLU", stock=5)
    db.session.commit()
    for n in range(10 * write_turns.CHECKPOINT_EVERY):
        db.session.execute(text("UPDATE products SET name = :name"), {"name": f"Mug {n}"})
        db.session.commit()
        assert _turn_is_free()
    outsider = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        _busy, frames_in_log, _copied = outsider.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        outsider.close()
    # 100 commits of a page or two stay below SQLite's own 1,000-page threshold, so they would all still be in the
    # log; the checkpoints after the turns restart it every CHECKPOINT_EVERY commits.
    assert frames_in_log < 4 * write_turns.CHECKPOINT_EVERY


def test_an_in_memory_database_has_no_lock_file():
    assert write_turns.lock_path_for(":memory:") is None
    assert write_turns.lock_path_for("") is None
    assert write_turns.lock_path_for("/srv/shop/solo_oms.sqlite3") == "/srv/shop/solo_oms.sqlite3-write-lock"


def test_a_connection_made_in_memory_still_writes():
    from webapp import create_app

    memory_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t", "TESTING": True})
    with memory_app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (n INTEGER)"))
            connection.execute(text("INSERT INTO kept VALUES (1)"))
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT n FROM kept")).scalar() == 1
        db.engine.dispose()


def test_the_lock_file_sits_beside_the_database(app):
    db.session.execute(select(1))
    db.session.commit()
    assert os.path.exists(_lock_path())
    assert os.path.dirname(_lock_path()) == os.path.dirname(os.path.abspath(db.engine.url.database))
