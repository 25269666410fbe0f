"""Benchmark for DESIGN.md §7 "CSV import >= 20,000 lines/s, validated".

Writes a Shopify-style export of ``--lines`` order lines (one to four per order, 5,000 customers, 500 SKUs,
prices with currency symbols and thousands separators), then imports it in history mode into a scratch SQLite
database (or ``--database``) exactly as `flask orders import FILE --format shopify --history` does, and prints
lines/s. A second run of the same file checks that nothing new is created. Usage:
.venv/bin/python bench/import.py [--lines 200000] [--database postgresql://...]
"""
import argparse
import csv
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--database", help="a database URL (default: a scratch SQLite file)")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.imports.importing import import_orders

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "orders.csv")
        write_file(path, args.lines)
        url = args.database or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            summary = import_orders(path, "shopify", history=True)
            elapsed = time.perf_counter() - started
            print(f"imported {summary.orders} orders, {summary.lines} lines, {summary.skipped_rows} skipped "
                  f"in {elapsed:.2f} s: {summary.lines / elapsed:,.0f} lines/s")
            started = time.perf_counter()
            again = import_orders(path, "shopify", history=True)
            print(f"again: {again.orders} new orders, {again.already_imported} already imported "
                  f"in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
