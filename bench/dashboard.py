"""Benchmark for DESIGN.md §7 "dashboard KPIs over 1,000,000 order lines: <= 300 ms".

A scratch SQLite shop (or an emptied PostgreSQL database, ``--database``) gets two years of orders (``--lines``
order lines, three to an order, 20,000 customers, 200 products with costs, every channel and status), and its daily
rollups stored as the worker's minute job would. gunicorn serves it as in the Procfile, and wrk asks one request at
a time (so the figure is the latency of one owner opening the page) for: the KPIs over the API
(`/api/v1/analytics/summary`) for the last 30 and 365 days, and the whole dashboard fragment (figures, the period
before, breakdowns, daily series, unusual orders) for the last 30 days. Each is the median of ``--runs`` runs,
beside a bare Flask "hello" served the same way.
Usage: .venv/bin/python bench/dashboard.py [--lines 1000000] [--database postgresql://...]
"""
import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.run import (  # noqa: E402
    Gunicorn,
    PrivateRedis,
    advance_sequences,
    empty_database,
    median_runs,
    session_cookie,
    sqlalchemy_url,
    wrk,
)
from bench.summary import record  # noqa: E402

CHANNELS = ["web"] * 5 + ["shopify"] * 3 + ["woocommerce"] * 2 + ["api", "paste", "import"]
STATUSES = (["delivered"] * 86 + ["cancelled"] * 4 + ["returned"] * 3 + ["rejected"] + ["confirmed"] * 2
            + ["processing"] * 2 + ["shipped"] * 2)
PLACES = [("GB", "Leeds"), ("GB", "York"), ("GB", "London"), ("GB", "Bristol"), ("IE", "Cork"), ("DE", "Berlin"),
          ("FR", "Lyon"), ("NL", "Utrecht"), ("US", "Boston")]


def prepare(folder: str, lines: int, database: str | None = None) -> tuple[str, str]:
    """The shop, in a scratch SQLite file or in the PostgreSQL database ``database`` (emptied first)."""
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.analytics.daily_sales import rebuild_changed_days
    from webapp.auth.models import User
    from webapp.auth.tokens import create_api_token
    from webapp.extensions import db
    from webapp.models import Customer, Order, OrderLine, Product
    from webapp.orders.earlier_orders import fill_earlier_orders
    from webapp.orders.shipping_times import fill_hours_to_ship
    from webapp.orders.shop_days import fill_shop_days
    from webapp.timekeeping import utcnow

    if database:
        empty_database(database)
    url = sqlalchemy_url(database) if database else f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    rng = random.Random(3)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        user = User(email="bench@example.com", role="owner")
        user.set_password("bench password 1")
        db.session.add(user)
        token = create_api_token(user, ["orders:read"])
        db.session.commit()
        now = utcnow()
        db.session.execute(insert(Product), [
            {"id": i, "sku": f"P{i:04d}", "name": f"Product {i}", "unit_price": Decimal(5 + i % 40),
             "unit_cost": Decimal(2 + i % 15) if i % 10 else None, "on_hand": 1000, "reserved": 0,
             "reorder_point": 5, "lead_time_days": 7, "active": True, "created_at": now, "updated_at": now}
            for i in range(1, 201)])
        db.session.execute(insert(Customer), [
            {"id": i, "name": f"Customer {i}", "email": f"c{i}@example.com", "country": PLACES[i % 9][0],
             "city": PLACES[i % 9][1], "tags": "", "notes": "", "blocked": False, "created_at": now}
            for i in range(1, 20_001)])
        order_count = lines // 3
        span = timedelta(days=730).total_seconds()
        orders, rows = [], []
        for n in range(1, order_count + 1):
            created = now - timedelta(seconds=span * (order_count - n) / order_count)
            status = rng.choice(STATUSES)
            shipped = created + timedelta(hours=rng.uniform(2, 96)) if status in (
                "delivered", "returned", "shipped") else None
            order_lines = [(rng.randint(1, 200), rng.randint(1, 3)) for _ in range(3)]
            subtotal = sum(Decimal(5 + p % 40) * q for p, q in order_lines)
            orders.append({
                "id": n, "number": f"SO-{n:07d}", "customer_id": int(rng.paretovariate(1.2) * 50) % 20_000 + 1,
                "channel": rng.choice(CHANNELS), "status": status, "payment_status": "paid",
                "priority": "express" if n % 7 == 0 else "standard", "currency": "GBP", "subtotal": subtotal,
                "shipping": Decimal("3.95"), "tax": Decimal("0"), "discount": Decimal("0"),
                "total": subtotal + Decimal("3.95"), "notes": "", "hold_reasons": [], "created_at": created,
                "updated_at": created, "shipped_at": shipped})
            rows.extend({"order_id": n, "product_id": p, "sku": f"P{p:04d}", "name": f"Product {p}", "quantity": q,
                         "unit_price": Decimal(5 + p % 40), "line_total": Decimal(5 + p % 40) * q}
                        for p, q in order_lines)
            if len(orders) == 20_000:
                db.session.execute(insert(Order), orders)
                db.session.execute(insert(OrderLine), rows)
                orders, rows = [], []
        if orders:
            db.session.execute(insert(Order), orders)
            db.session.execute(insert(OrderLine), rows)
        advance_sequences(["products", "customers", "orders"])  # PostgreSQL: ids were given above
        fill_shop_days()  # as a history import does after its bulk inserts
        fill_earlier_orders()
        fill_hours_to_ship()
        db.session.commit()
        rebuild_changed_days()  # as the worker's minute job does after a history import
        db.session.commit()
        if database:
            # What autovacuum does to a shop's tables as they grow; without it every row written above (and rewritten
            # by the fills) is not yet known all-visible, and PostgreSQL fetches each one's heap page even where an
            # index holds every column the dashboard reads (its index-only scans).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(db.text("VACUUM ANALYZE"))
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
    return url, token


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", help="a PostgreSQL URL to measure on instead of a scratch SQLite file "
                                           "(its tables are dropped)")
    args = parser.parse_args()
    engine_name = "PostgreSQL" if args.database else "SQLite"
    folder = tempfile.mkdtemp(prefix="solo-oms-dashboard-bench-")
    redis = PrivateRedis(folder)
    try:
        print(f"Preparing a shop with {args.lines:,} order lines in {folder} ...", flush=True)
        started = time.perf_counter()
        url, token = prepare(folder, args.lines, args.database)
        print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "false",
               "REDIS_URL": redis.url}
        hello = Gunicorn("bench.hello_app:app", env)
        try:
            base = median_runs(args.runs, lambda: wrk(hello.url + "/hello", "get.lua", args.seconds, 1, {}))
        finally:
            hello.stop()
        rows = [("bare Flask hello, 1 conn", base, "")]
        server = Gunicorn("wsgi:app", env)
        try:
            cookie = session_cookie(server.url)
            today = time.strftime("%Y-%m-%d")
            for days in (30, 365):
                first = time.strftime("%Y-%m-%d", time.localtime(time.time() - (days - 1) * 86400))
                api = f"{server.url}/api/v1/analytics/summary?from={first}&to={today}"
                result = median_runs(args.runs, lambda api=api: wrk(api, "get.lua", args.seconds, 1,
                                                                    {"BENCH_TOKEN": token}))
                rows.append((f"API KPIs, last {days} days, 1 conn", result, "<= 300 ms"))
            page = median_runs(args.runs, lambda: wrk(server.url + "/dashboard", "get.lua", args.seconds, 1,
                                                      {"BENCH_COOKIE": cookie}))
            rows.append(("dashboard fragment, last 30 days, 1 conn", page, ""))
            rss = server.rss_mb()
        finally:
            server.stop()
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nSolo OMS dashboard benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {engine_name}, "
          f"{args.lines:,} order lines over two years, gunicorn 2x4, median of {args.runs} x {args.seconds}s\n")
    print(f"| {'what':<42} | {'req/s':>7} | {'vs hello':>8} | {'p50 ms':>8} | {'p95 ms':>8} | {'errors':>6} | target")
    print(f"|{'-' * 44}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 8}|--------")
    for name, result, target in rows:
        print(f"| {name:<42} | {result['rps']:>7.1f} | {result['rps'] / base['rps']:>8.4f} | {result['p50']:>8.1f} | "
              f"{result['p95']:>8.1f} | {result['errors']:>6.0f} | {target}")
        if target:  # the KPI rows; the hello row is the yardstick
            record(f"dashboard: {name.removesuffix(', 1 conn')}, {args.lines:,} order lines",
                   f"p50 {result['p50']:.0f} ms",
                   f"{result['rps'] / base['rps']:.4f} of hello ({base['rps']:.0f} req/s)", "<= 300 ms",
                   result["p50"] <= 300, engine_name)
    print(f"\nweb worker RSS after the runs: {rss:.0f} MB (target <= 150 MB)")
    record("web worker memory (after the dashboard)", f"{rss:.0f} MB RSS", "", "<= 150 MB", rss <= 150, engine_name)


if __name__ == "__main__":
    main()
