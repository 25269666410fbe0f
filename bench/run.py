"""Benchmarks for DESIGN.md §7 that the order core owns: API intake and the board.

Each figure is the median of several wrk runs against gunicorn on the embedded defaults (SQLite under a
scratch folder), with the same figure for a bare Flask "hello" served the same way, so the ratio holds on a
noisy machine. Usage: .venv/bin/python bench/run.py [--runs 3] [--seconds 10] [--orders 100000]
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
sys.path.insert(0, ROOT)

from bench.summary import record  # noqa: E402

BENCH_AGENT = "solo-oms-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the bench's own on a free port, keeping nothing on disk, as `make run` starts one: intake
    and the workers hand their work to RQ through it. Accepting connections once built; stop() ends it."""

    def __init__(self, folder: str):
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", folder],
                                        stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


class Gunicorn:
    """gunicorn with the Procfile's settings: 2 workers x 4 threads."""

    def __init__(self, target: str, env: dict, workers=2, threads=4):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall the server
        self.process = subprocess.Popen(
            [os.path.join(VENV_BIN, "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", target],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=self.log,
        )
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("gunicorn did not start: " + self.log.read().decode()[-2000:])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """Largest resident set of one worker process, in MB."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        sizes = []
        for pid in children:
            with open(f"/proc/{pid}/status") as status:
                match = re.search(r"VmRSS:\s+(\d+) kB", status.read())
                sizes.append(int(match.group(1)) / 1024 if match else 0)
        return max(sizes, default=0.0)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wrk(url: str, script: str, seconds: int, connections: int, env: dict) -> dict:
    output = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         os.path.join(ROOT, "bench", script), url],
        capture_output=True, text=True, env={**os.environ, **env}, check=True,
    ).stdout
    requests, errors, p50, p95, p99, duration = re.search(r"RESULT (.*)", output).group(1).split()
    return {"rps": int(requests) / float(duration), "errors": int(errors), "p50": float(p50), "p95": float(p95),
            "p99": float(p99)}


def median_runs(runs: int, measure) -> dict:
    results = [measure() for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def empty_database(url: str) -> None:
    """Drop every table of a PostgreSQL bench database, so that the migrations build it afresh."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def sqlalchemy_url(url: str) -> str:
    """psycopg 3 for PostgreSQL URLs, as the app's config does."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def advance_sequences(tables: list[str]) -> None:
    """After rows were written with their own ids, move PostgreSQL's id sequences past them."""
    from sqlalchemy import text

    from webapp.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    db.session.commit()


def prepare_database(folder: str, orders: int, url: str | None = None) -> tuple[str, str]:
    """A scratch shop: 50 products with deep stock, an owner, a token and ``orders`` historic orders (in a
    scratch SQLite file, or in the PostgreSQL database ``url``, emptied first)."""
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.auth.models import User
    from webapp.auth.tokens import create_api_token
    from webapp.extensions import db
    from webapp.models import Customer, Order, OrderLine, Product, StockMovement
    from webapp.timekeeping import utcnow

    if url:
        empty_database(url)
    url = sqlalchemy_url(url) if url else f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        user = User(email="bench@example.com", role="owner")
        user.set_password("bench password 1")
        db.session.add(user)
        token = create_api_token(user, ["orders:read", "orders:write", "products:read", "products:write"])
        db.session.commit()
        db.session.execute(insert(Product), [
            {"id": i, "sku": f"BENCH-{i:03d}", "name": f"Bench product {i}", "unit_price": Decimal("12.50"),
             "on_hand": 10**9, "reserved": 0, "reorder_point": 5, "lead_time_days": 7, "active": True,
             "created_at": utcnow(), "updated_at": utcnow()} for i in range(1, 51)])
        db.session.execute(insert(StockMovement), [
            {"product_id": i, "kind": "receive", "on_hand_delta": 10**9, "reserved_delta": 0, "reason": "bench",
             "actor": "bench", "created_at": utcnow()} for i in range(1, 51)])
        db.session.execute(insert(Customer), [
            {"id": i, "name": f"Customer {i}", "email": f"c{i}@example.com", "tags": "", "notes": "",
             "blocked": False, "created_at": utcnow()} for i in range(1, 2001)])
        rng = random.Random(1)
        now = utcnow()
        statuses = (["delivered"] * 90 + ["cancelled"] * 3 + ["confirmed"] * 3 + ["processing"] * 2
                    + ["on_hold"] + ["shipped"])
        batch_orders, batch_lines = [], []
        for n in range(1, orders + 1):
            created = now - timedelta(minutes=n * 7)
            status = rng.choice(statuses)
            batch_orders.append({
                "id": n, "number": f"SO-{n:06d}", "customer_id": rng.randint(1, 2000), "channel": "web",
                "status": status, "payment_status": "paid", "priority": rng.choice(("standard", "express")),
                "currency": "GBP", "subtotal": Decimal("25.00"), "shipping": Decimal("3.95"), "tax": Decimal("0"),
                "discount": Decimal("0"), "total": Decimal("28.95"), "notes": "", "hold_reasons": [],
                "created_at": created, "updated_at": created,
                "shipped_at": now - timedelta(hours=1) if status == "shipped" else None})
            batch_lines.append({"order_id": n, "product_id": 1 + n % 50, "sku": f"BENCH-{1 + n % 50:03d}",
                                "name": "Bench product", "quantity": 2, "unit_price": Decimal("12.50"),
                                "line_total": Decimal("25.00")})
            if len(batch_orders) == 10000:
                db.session.execute(insert(Order), batch_orders)
                db.session.execute(insert(OrderLine), batch_lines)
                batch_orders, batch_lines = [], []
        if batch_orders:
            db.session.execute(insert(Order), batch_orders)
            db.session.execute(insert(OrderLine), batch_lines)
        db.session.commit()
        advance_sequences(["products", "customers", "orders"])
        if url.startswith("postgresql"):
            # What autovacuum does to tables that grew (this machine's server has it off): statistics for the
            # planner, and the rows known all-visible for index-only scans. bench/dashboard.py does the same.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(db.text("VACUUM ANALYZE"))
    return url, token


def session_cookie(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # Sessions are bound to the browser's User-Agent (session_protection="strong"): use wrk's.
    opener.addheaders = [("User-Agent", BENCH_AGENT)]
    page = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": "bench@example.com", "password": "bench password 1",
                                   "csrf_token": csrf}).encode()
    opener.open(base + "/login", data=data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def etag_of(url: str, cookie: str) -> str:
    """The board's current ETag, after checking that a signed-in poll with it really answers 304."""
    headers = {"Cookie": cookie, "HX-Request": "true", "User-Agent": BENCH_AGENT}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        assert response.status == 200 and 'id="board"' in response.read().decode(), "not signed in"
        etag = response.headers["ETag"]
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={**headers, "If-None-Match": etag}))
    except urllib.error.HTTPError as error:
        assert error.code == 304, error.code
    else:
        raise AssertionError("the unchanged board did not answer 304")
    return etag


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--database", help="a PostgreSQL URL to measure on instead of a scratch SQLite file "
                                           "(its tables are dropped)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    folder = tempfile.mkdtemp(prefix="solo-oms-bench-")
    # A private Redis, as `make run` has one: intake hands each order's emails to RQ after the commit.
    redis = PrivateRedis(folder)
    print(f"Preparing a shop with {args.orders:,} orders in {folder} ...", flush=True)
    url, token = prepare_database(folder, args.orders, args.database)
    engine_name = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "false",
           "REDIS_URL": redis.url}
    rows = []

    hello = Gunicorn("bench.hello_app:app", env)
    try:
        base = median_runs(args.runs, lambda: wrk(hello.url + "/hello", "get.lua", args.seconds, 16, {}))
        # The same concurrency as the board rows: what the server's threads taking turns cost a request that does
        # next to nothing.
        four = median_runs(args.runs, lambda: wrk(hello.url + "/hello", "get.lua", args.seconds, 4, {}))
        alone = median_runs(args.runs, lambda: wrk(hello.url + "/hello", "get.lua", args.seconds, 1, {}))
        # Paced as the paced poll below: a server idle between requests answers slower than a busy one (its
        # threads and this VM's cores wake first), which a bare hello shows too.
        paced_hello = median_runs(args.runs, lambda: wrk(hello.url + "/hello", "poll.lua", args.seconds, 4, {
            "BENCH_COOKIE": "", "BENCH_ETAG": "", "BENCH_PAUSE_MS": "25"}))
    finally:
        hello.stop()
    rows.append(("bare Flask hello, 16 conns", base, None))
    rows.append(("bare Flask hello, 4 conns", four, None))
    rows.append(("bare Flask hello, 1 conn", alone, None))
    rows.append(("bare Flask hello, 4 conns x 40/s", paced_hello, None))

    server = Gunicorn("wsgi:app", env)
    try:
        cookie = session_cookie(server.url)
        board_url = server.url + "/board"
        board = median_runs(args.runs, lambda: wrk(board_url, "get.lua", args.seconds, 4, {"BENCH_COOKIE": cookie}))
        rows.append((f"board fragment, {args.orders:,} orders, 4 conns", board, "p95 <= 25 ms"))
        unchanged = median_runs(args.runs, lambda: wrk(board_url, "poll.lua", args.seconds, 4, {
            "BENCH_COOKIE": cookie, "BENCH_ETAG": etag_of(board_url, cookie)}))
        rows.append(("board poll unchanged (304), 4 conns flat out", unchanged, "p95 <= 3 ms"))
        # One board polling, as one owner's phone or laptop does: what a poll waits when it does not queue.
        polling = median_runs(args.runs, lambda: wrk(board_url, "poll.lua", args.seconds, 1, {
            "BENCH_COOKIE": cookie, "BENCH_ETAG": etag_of(board_url, cookie)}))
        rows.append(("board poll unchanged (304), 1 conn", polling, "p95 <= 3 ms"))
        # Four boards each asking every 25 ms: 160 polls/s, what 800 boards on the 5-second interval would send, but
        # not flat out, so a poll waits for the server and not for the polls queued ahead of it.
        paced = median_runs(args.runs, lambda: wrk(board_url, "poll.lua", args.seconds, 4, {
            "BENCH_COOKIE": cookie, "BENCH_ETAG": etag_of(board_url, cookie), "BENCH_PAUSE_MS": "25"}))
        rows.append(("board poll unchanged (304), 4 conns x 40/s", paced, "p95 <= 3 ms"))
        intake = median_runs(args.runs, lambda: wrk(server.url, "post_order.lua", args.seconds, 16,
                                                    {"BENCH_TOKEN": token}))
        rows.append(("API order intake, 16 conns", intake, ">= 1,000/s, p99 <= 50 ms"))
        rss = server.rss_mb()
    finally:
        server.stop()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nSolo OMS benchmarks — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {engine_name}, gunicorn 2x4, "
          f"median of {args.runs} x {args.seconds}s\n")
    print(f"| {'what':<46} | {'req/s':>8} | {'vs hello':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | "
          f"{'errors':>6} | target")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|--------")
    for name, result, target in rows:
        print(f"| {name:<46} | {result['rps']:>8.0f} | {result['rps'] / base['rps']:>8.2f} | {result['p50']:>7.2f} | "
              f"{result['p95']:>7.2f} | {result['p99']:>7.2f} | {result['errors']:>6.0f} | {target or ''}")
    print(f"\nweb worker RSS after the runs: {rss:.0f} MB (target <= 150 MB)")
    hello = f"{base['rps']:.0f} req/s"
    record("API order intake, 16 connections", f"{intake['rps']:.0f} orders/s, p99 {intake['p99']:.0f} ms",
           f"{intake['rps'] / base['rps']:.2f} of hello ({hello})", ">= 1,000 orders/s, p99 <= 50 ms",
           intake["rps"] >= 1000 and intake["p99"] <= 50, engine_name)
    record(f"board fragment, {args.orders:,} orders", f"p95 {board['p95']:.1f} ms",
           f"{board['rps'] / base['rps']:.2f} of hello", "p95 <= 25 ms", board["p95"] <= 25, engine_name)
    record("board poll unchanged (304), 4 connections flat out", f"p95 {unchanged['p95']:.1f} ms",
           f"{unchanged['rps'] / base['rps']:.2f} of hello; hello at 4 conns: p95 {four['p95']:.1f} ms",
           "p95 <= 3 ms", unchanged["p95"] <= 3, engine_name)
    record("board poll unchanged (304), one board polling (1 connection)", f"p95 {polling['p95']:.1f} ms",
           f"hello alone: p95 {alone['p95']:.1f} ms", "p95 <= 3 ms", polling["p95"] <= 3, engine_name)
    record("board poll unchanged (304), 4 boards each polling 40 times a second", f"p95 {paced['p95']:.1f} ms",
           f"{paced['rps']:.0f} polls/s; hello paced alike: p95 {paced_hello['p95']:.1f} ms", "p95 <= 3 ms",
           paced["p95"] <= 3, engine_name)
    record("web worker memory", f"{rss:.0f} MB RSS", "", "<= 150 MB", rss <= 150, engine_name)


if __name__ == "__main__":
    main()
