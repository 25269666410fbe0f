"""Benchmark for DESIGN.md §7 "CSV import >= 20,000 lines/s, validated", memory flat in the file's size.

Writes Shopify-style exports of ``--lines`` and a quarter as many order lines (one to four per order, 5,000
customers, 500 SKUs, prices with currency symbols and thousands separators), then imports each in history mode,
exactly as `flask orders import FILE --format shopify --history` does, into a scratch SQLite database (or
``--database``, which must be empty: the bench leaves it empty again). Every import runs in a process of its own
so that its peak RSS is its own; a second import of the same file checks that nothing new is created. Prints the
median of ``--runs`` runs per size: lines/s (wall clock, and per CPU second of the importing process, which
the machine's other work disturbs less), peak RSS, and the load average. Usage:
.venv/bin/python bench/import.py [--lines 200000] [--runs 3] [--database postgresql://...]
"""
import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.summary import record  # noqa: E402

HEADER = ["Name", "Email", "Fulfillment Status", "Currency", "Created at", "Lineitem quantity", "Lineitem name",
          "Lineitem price", "Lineitem sku", "Billing Name", "Shipping City", "Shipping Country"]


def write_file(path: str, lines: int) -> None:
    rng = random.Random(5)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        written, n = 0, 0
        while written < lines:
            n += 1
            customer = rng.randrange(5000)
            status = rng.choice(["fulfilled"] * 9 + ["refunded"])
            when = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:00 +0000"
            for position in range(min(rng.randint(1, 4), lines - written)):
                first = position == 0
                price = rng.randint(100, 250000) / 100
                writer.writerow([f"#{1000 + n}", f"c{customer}@example.com" if first else "",
                                 status if first else "", "GBP" if first else "", when if first else "",
                                 rng.randint(1, 5), f"Product {position}", f"£{price:,.2f}",
                                 f"SKU-{rng.randrange(500):04d}", f"Customer {customer}" if first else "",
                                 "Leeds" if first else "", "GB" if first else ""])
                written += 1


def import_once(path: str, url: str) -> dict:
    """One history import of ``path`` into an empty database at ``url``, then the same file again."""
    import logging

    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.imports.importing import import_orders

    logging.disable(logging.INFO)  # Alembic's progress lines
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        started, cpu = time.perf_counter(), time.process_time()
        summary = import_orders(path, "shopify", history=True)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
        started = time.perf_counter()
        again = import_orders(path, "shopify", history=True)
        return {"lines": summary.lines, "orders": summary.orders, "skipped": summary.skipped_rows,
                "seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": rss_mb,
                "again_new": again.orders, "again_seconds": time.perf_counter() - started}


def empty_database(url: str, *, check: bool) -> None:
    """Drop every table and function of the bench's PostgreSQL database; refuse to start on one that holds anything."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        tables = sqlalchemy.inspect(connection).get_table_names()
        if check and tables:
            sys.exit(f"{url} is not empty ({len(tables)} tables): give the bench a database of its own")
        if tables:
            connection.exec_driver_sql("DROP TABLE " + ", ".join(f'"{name}"' for name in tables) + " CASCADE")
        for (name,) in connection.exec_driver_sql(  # the migrations' trigger functions outlive their tables
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public'"):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {name} CASCADE")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="an empty PostgreSQL database's URL (default: scratch SQLite files)")
    parser.add_argument("--one", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)  # a run's own process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(import_once(*args.one)))
        return

    if args.database:
        empty_database(args.database, check=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for lines in (args.lines // 4, args.lines):
            path = os.path.join(folder, f"orders-{lines}.csv")
            write_file(path, lines)
            runs = []
            for run in range(args.runs):
                url = args.database or f"sqlite:///{folder}/bench-{lines}-{run}.sqlite3"
                done = subprocess.run([sys.executable, __file__, "--one", path, url], check=True,
                                      capture_output=True, text=True)
                result = json.loads(done.stdout.splitlines()[-1])
                if args.database:
                    empty_database(args.database, check=False)
                assert result["again_new"] == 0, "the same file imported twice created orders"
                print(f"{lines:>9,} lines, run {run + 1}: {result['lines'] / result['seconds']:>7,.0f} lines/s, "
                      f"{result['lines'] / result['cpu_seconds']:>7,.0f} per CPU s, peak RSS "
                      f"{result['peak_rss_mb']:.0f} MB; again: 0 new orders in {result['again_seconds']:.1f} s")
                runs.append(result)
            table.append((lines, statistics.median(r["lines"] / r["seconds"] for r in runs),
                          statistics.median(r["lines"] / r["cpu_seconds"] for r in runs),
                          statistics.median(r["peak_rss_mb"] for r in runs)))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n{'database':<10} {'lines':>9} {'lines/s':>9} {'per CPU s':>10} {'peak RSS':>9}   "
          f"(median of {args.runs})")
    for lines, speed, cpu_speed, rss in table:
        print(f"{'postgresql' if args.database else 'sqlite':<10} {lines:>9,} {speed:>9,.0f} {cpu_speed:>10,.0f} "
              f"{rss:>6.0f} MB")
    lines, speed, cpu_speed, rss = max(table)
    record(f"CSV import, history mode, {lines:,} lines", f"{speed:,.0f} lines/s, peak RSS {rss:.0f} MB",
           f"{cpu_speed:,.0f} lines per CPU s", ">= 20,000 lines/s", speed >= 20_000,
           "PostgreSQL" if args.database else "SQLite")


if __name__ == "__main__":
    main()
