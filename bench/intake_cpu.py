"""What one API order costs the web process: CPU milliseconds per POST /api/v1/orders, timed in-process.

The shop is bench/run.py's (50 products with deep stock, an owner with a token, ``--history`` older orders), the
body is the one bench/post_order.lua sends (a new customer, one line, an Idempotency-Key), and a private
redis-server takes the jobs, so every part of intake runs as under gunicorn: the token look-up, the audit, the
reservation, the ledger, the activity log, the emails and their hand-over to RQ. The HTTP layer is Flask's test
client, so the figure is the application's own work, not the network's or gunicorn's. CPU time is
``time.process_time()`` (this process only: PostgreSQL's own CPU is not in it); each figure is the median of the
rounds, steadier than wall time on a shared machine. Usage:
    .venv/bin/python bench/intake_cpu.py [--orders 300] [--rounds 5] [--history 10000] [--database-url URL]
                                         [--profile FILE]   # cProfile of one more round, for pstats/snakeviz
"""
import argparse
import cProfile
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.run import PrivateRedis, prepare_database  # noqa: E402


def order_body(n: int) -> str:
    """The body bench/post_order.lua sends for request ``n``."""
    return json.dumps({
        "customer": {"name": f"Buyer {n}", "email": f"buyer{n}@example.com",
                     "address": {"line1": f"{n} High St", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}},
        "lines": [{"sku": f"BENCH-{n % 50 + 1:03d}", "quantity": 1}], "shipping": "3.95"})


def time_orders(client, token: str, start: int, count: int) -> float:
    """CPU seconds per order for ``count`` orders numbered from ``start``."""
    bodies = [(n, order_body(n)) for n in range(start, start + count)]
    began = time.process_time()
    for n, body in bodies:
        response = client.post("/api/v1/orders", data=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": f"cpu-{n}"})
        if response.status_code != 201:
            raise SystemExit(f"order {n}: {response.status_code} {response.get_data(as_text=True)}")
    return (time.process_time() - began) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300, help="orders per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--history", type=int, default=10_000, help="older orders in the shop before the runs")
    parser.add_argument("--database-url", help="a PostgreSQL URL (its tables are dropped) instead of scratch SQLite")
    parser.add_argument("--profile", help="write a cProfile of one more round to this file")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="solo-oms-intake-cpu-")
    redis = PrivateRedis(folder)
    try:
        url, token = prepare_database(folder, args.history, args.database_url)
        from webapp import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                          "WTF_CSRF_ENABLED": False, "REDIS_URL": redis.url})
        client = app.test_client()
        start = 1
        time_orders(client, token, start, 50)  # warm up: imports, template and statement caches
        start += 50
        rounds = []
        for _ in range(args.rounds):
            rounds.append(time_orders(client, token, start, args.orders))
            start += args.orders
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, as the figures: a busy machine skews wall time
            profiler.runcall(time_orders, client, token, start, args.orders)
            profiler.dump_stats(args.profile)
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        per_order = [seconds * 1000 for seconds in rounds]
        print(f"{database}: {args.rounds} rounds x {args.orders} API orders (1 line, new customer), "
              f"{args.history:,} older orders; load average {os.getloadavg()[0]:.1f}")
        print(f"  CPU per order: median {statistics.median(per_order):.2f} ms "
              f"(rounds: {', '.join(f'{ms:.2f}' for ms in per_order)})")
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
