"""Benchmark for DESIGN.md §7 "PDF invoices >= 15/s with 2 workers" (and the RQ worker's memory).

A scratch shop gets ``--invoices`` confirmed orders of three lines each, each with its invoice issued (which
schedules its PDF job, as the order page and the audit do). Two real RQ workers (the Procfile's
`rq worker -w worker.app.ShopWorker`, in burst mode, on the documents queue) render them all; the run is timed
from the first job's start to the last job's end (the workers' start-up is once a deploy) and every PDF is
checked to be stored. For a figure that holds on a noisy machine, the same two
workers also render a fixed invoice page with bare WeasyPrint (no database, no template), and the ratio is
printed. Usage: .venv/bin/python bench/invoices.py [--invoices 300] [--runs 3] [--database postgresql://...]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.forecasts import run_workers  # noqa: E402
from bench.run import PrivateRedis, advance_sequences, empty_database, sqlalchemy_url  # noqa: E402
from bench.summary import record  # noqa: E402

PDF_QUEUE = "documents"


def prepare(url: str, invoices: int) -> None:
    """Migrate a scratch database and fill it with confirmed orders, each with an invoice waiting for its PDF."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.extensions import db
    from webapp.invoices.issuing import issue_invoice
    from webapp.models import Customer, Order, OrderLine, Product
    from webapp.timekeeping import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        now = utcnow()
        db.session.execute(insert(Product), [
            {"id": i, "sku": f"BENCH-{i:03d}", "name": f"Stoneware piece no. {i}", "unit_price": Decimal("18.50"),
             "on_hand": 1000, "reserved": 0, "reorder_point": 5, "lead_time_days": 7, "active": True,
             "created_at": now, "updated_at": now} for i in range(1, 21)])
        db.session.execute(insert(Customer), [
            {"id": i, "name": f"Customer {i}", "email": f"c{i}@example.com", "address_line1": f"{i} High Street",
             "city": "Leeds", "postcode": "LS1 4AB", "country": "GB", "tags": "", "notes": "", "blocked": False,
             "created_at": now} for i in range(1, 101)])
        db.session.execute(insert(Order), [
            {"id": n, "number": f"SO-{n:06d}", "customer_id": 1 + n % 100, "channel": "web", "status": "confirmed",
             "payment_status": "paid", "priority": "standard", "currency": "GBP", "subtotal": Decimal("55.50"),
             "shipping": Decimal("3.95"), "tax": Decimal("9.91"), "discount": Decimal("0"),
             "total": Decimal("59.45"), "notes": "", "hold_reasons": [], "created_at": now, "updated_at": now,
             "ship_name": f"Customer {1 + n % 100}", "ship_line1": "1 High Street", "ship_city": "Leeds",
             "ship_postcode": "LS1 4AB", "ship_country": "GB"} for n in range(1, invoices + 1)])
        db.session.execute(insert(OrderLine), [
            {"order_id": n, "product_id": 1 + (n + k) % 20, "sku": f"BENCH-{1 + (n + k) % 20:03d}",
             "name": f"Stoneware piece no. {1 + (n + k) % 20}", "quantity": 1, "unit_price": Decimal("18.50"),
             "line_total": Decimal("18.50")} for n in range(1, invoices + 1) for k in range(3)])
        db.session.commit()
        advance_sequences(["products", "customers", "orders"])
        for order in db.session.query(Order).order_by(Order.id):
            issue_invoice(order, actor="bench")
        db.session.commit()


def forget_pdfs(url: str) -> int:
    """Drop the rendered PDFs and hand their jobs to RQ again (a fresh run over the same invoices)."""
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(text("UPDATE invoices SET pdf = NULL, pdf_rendered_at = NULL"))
        connection.execute(text("DELETE FROM pending_jobs"))
        ids = [row[0] for row in connection.execute(text("SELECT id FROM invoices ORDER BY id"))]
    return len(ids)


def enqueue_renders(env: dict, url: str) -> int:
    from redis import Redis
    from rq import Queue
    from sqlalchemy import create_engine, text

    queue = Queue(PDF_QUEUE, connection=Redis.from_url(env["REDIS_URL"]))
    queue.empty()
    with create_engine(url).connect() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT id FROM invoices ORDER BY id"))]
    for invoice_id in ids:
        queue.enqueue("worker.jobs.invoices.render_invoice_pdf", invoice_id, job_id=f"bench-pdf-{invoice_id}-"
                      f"{time.monotonic_ns()}")
    return len(ids)


def busy_seconds(env: dict, queue_name: str) -> float:
    """From the first job's start to the last one's end: the workers' own start-up (building the app, loading
    WeasyPrint and Prophet) is left out, as it happens once a deploy, not once a batch of invoices."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    connection = Redis.from_url(env["REDIS_URL"])
    registry = Queue(queue_name, connection=connection).finished_job_registry
    jobs = [job for job in Job.fetch_many(registry.get_job_ids(), connection=connection) if job]
    for job in jobs:
        job.delete()
    return (max(job.ended_at for job in jobs) - min(job.started_at for job in jobs)).total_seconds()


def rendered(url: str) -> int:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as connection:
        return connection.execute(text("SELECT count(*) FROM invoices WHERE pdf IS NOT NULL")).scalar()


def bare_renders(env: dict, jobs: int) -> float:
    """Seconds for two workers to run ``jobs`` bare WeasyPrint renders of a fixed page: the machine's yardstick."""
    from redis import Redis
    from rq import Queue

    # On the documents queue, so the workers run them exactly as they run invoices.
    queue = Queue(PDF_QUEUE, connection=Redis.from_url(env["REDIS_URL"]))
    for _ in range(jobs):
        queue.enqueue("bench.invoice_yardstick.one_pdf")
    run_workers(env, PDF_QUEUE)
    return busy_seconds(env, PDF_QUEUE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL URL to use instead of a scratch SQLite file (emptied)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="solo-oms-invoice-bench-")
    redis = PrivateRedis(folder)
    url = sqlalchemy_url(args.database) if args.database else f"sqlite:///{folder}/bench.sqlite3"
    engine_name = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    # No SMTP: the emails the renders queue are written as files, and only the documents queue is worked.
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": redis.url,
           "OUTBOX_DIR": os.path.join(folder, "outbox")}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL")})
    try:
        if args.database:
            empty_database(url)
        print(f"Preparing {args.invoices:,} invoiced orders ({engine_name}) in {folder} ...", flush=True)
        prepare(url, args.invoices)
        timings, peaks = [], []
        for _ in range(args.runs):
            forget_pdfs(url)
            count = enqueue_renders(env, url)
            _, sampler = run_workers(env, PDF_QUEUE)
            seconds = busy_seconds(env, PDF_QUEUE)
            done = rendered(url)
            if done != count:
                sys.exit(f"only {done} of {count} PDFs were stored: see the workers' failed jobs")
            timings.append(seconds)
            peaks.append((sampler.peak_parent, sampler.peak_child))
        yardstick = bare_renders(env, args.invoices)
        seconds = statistics.median(timings)
        print(f"\nSolo OMS invoice benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {engine_name}, "
              f"2 RQ workers, {args.invoices:,} invoices, median of {args.runs}\n")
        print(f"| {'what':<46} | {'seconds':>8} | {'PDFs/s':>7} | {'vs bare':>7} | target")
        print(f"|{'-' * 48}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------")
        print(f"| {'bare WeasyPrint render, no database':<46} | {yardstick:>8.1f} | "
              f"{args.invoices / yardstick:>7.1f} | {1:>7.2f} |")
        print(f"| {'invoice PDFs rendered and stored':<46} | {seconds:>8.1f} | {args.invoices / seconds:>7.1f} | "
              f"{yardstick / seconds:>7.2f} | >= 15/s")
        parent, child = max(p for p, _ in peaks), max(c for _, c in peaks)
        print(f"\nRQ worker RSS: parent peak {parent:.0f} MB, job process peak {child:.0f} MB (target <= 400 MB)")
        rate = args.invoices / seconds
        record("PDF invoices, 2 workers", f"{rate:.1f} PDFs/s", f"{yardstick / seconds:.2f} of bare WeasyPrint "
               f"({args.invoices / yardstick:.1f}/s)", ">= 15/s", rate >= 15, engine_name)
        record("RQ worker memory (rendering PDFs)", f"{max(parent, child):.0f} MB RSS", "", "<= 400 MB",
               max(parent, child) <= 400, engine_name)
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
