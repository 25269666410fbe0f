"""Benchmark for DESIGN.md §7 "forecasts: 1,000 products x 2 years daily history in <= 60 s with 2 workers".

A scratch SQLite shop gets ``--products`` products with two years of daily sales (weekly and yearly seasonality,
demand levels from a few units a week to dozens a day, ten lines an order), and two days more. The nightly run is
timed end to end: what the cron starts schedules chunk jobs of products, and two real RQ workers (the Procfile's
`rq worker -w worker.app.ShopWorker`, in burst mode) work through them. Three nights are timed: the first night
(every product fitted and backtested), a typical next night (the refit rules: a seventh of the products on their
weekly turn, and those whose sales left their range; the rest kept and rolled forward), and a full refit of every
product (`--refit-all`; backtests are a day fresh, so not redone). Peak RSS of the worker processes is sampled
from /proc.

For a figure that holds on a noisy machine, the same two workers' throughput is also measured on a bare job
(one default Prophet fit of a two-year series through Prophet's own Python API, no database, with Prophet imported
before the workers fork), and the ratio printed; so are the CPU seconds each night used in all processes, which the
machine's load barely moves.
Usage: .venv/bin/python bench/forecasts.py [--products 1000] [--runs 1]
"""
import argparse
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.run import PrivateRedis  # noqa: E402
from bench.summary import record  # noqa: E402

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DAYS = 730
LINES_PER_ORDER = 10


def poisson(rng: random.Random, rate: float) -> int:
    if rate > 30:
        return max(0, round(rng.gauss(rate, math.sqrt(rate))))
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def prepare(url: str, products: int) -> date:
    """Migrate a scratch database and fill it with two years of daily sales, and the two days after the first
    night's as-of day (which it returns) for the nights after it."""
    os.environ["DATABASE_URL"] = url
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.catalog.models import Product
    from webapp.customers.models import Customer
    from webapp.extensions import db
    from webapp.orders.models import Order, OrderLine

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    subprocess.run([os.path.join(VENV_BIN, "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = random.Random(11)
    as_of = date.today()
    first = as_of - timedelta(days=DAYS)
    with app.app_context():
        db.session.execute(insert(Product), [
            {"id": i, "sku": f"P{i:05d}", "name": f"Product {i}", "unit_price": Decimal("10.00"), "on_hand": 100,
             "reserved": 0, "reorder_point": 10, "lead_time_days": 7, "active": True}
            for i in range(1, products + 1)])
        db.session.execute(insert(Customer), [{"id": 1, "name": "Bench Buyer"}])
        levels = {i: math.exp(rng.uniform(math.log(0.3), math.log(30))) for i in range(1, products + 1)}
        weekly = [0.8, 0.8, 0.9, 1.0, 1.1, 1.4, 1.0]
        order_id, line_id = 0, 0
        for offset in range(DAYS + 2):
            day = first + timedelta(days=offset)
            season = 1 + 0.35 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365.25)
            lines = []
            for product_id, level in levels.items():
                units = poisson(rng, level * weekly[day.weekday()] * season)
                if units:
                    lines.append((product_id, units))
            orders, rows = [], []
            for start in range(0, len(lines), LINES_PER_ORDER):
                order_id += 1
                created = datetime(day.year, day.month, day.day, 9 + (order_id % 10))
                orders.append({"id": order_id, "number": f"SO-{order_id:06d}", "customer_id": 1,
                               "status": "delivered", "created_at": created, "updated_at": created,
                               "hold_reasons": [], "total": Decimal("0")})
                for product_id, units in lines[start:start + LINES_PER_ORDER]:
                    line_id += 1
                    rows.append({"id": line_id, "order_id": order_id, "product_id": product_id,
                                 "sku": f"P{product_id:05d}", "name": f"Product {product_id}", "quantity": units,
                                 "unit_price": Decimal("10.00"), "line_total": Decimal("10.00") * units})
            db.session.execute(insert(Order), orders)
            db.session.execute(insert(OrderLine), rows)
        db.session.commit()
        print(f"  {order_id:,} orders, {line_id:,} order lines over {DAYS + 2} days", flush=True)
    return as_of


class RssSampler(threading.Thread):
    """Peak resident memory of the worker processes and their forked job children."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak_parent, self.peak_child, self.running = pids, 0.0, 0.0, True

    @staticmethod
    def rss_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
        except (OSError, StopIteration):
            return 0.0

    @staticmethod
    def children(pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as listing:
                return [int(p) for p in listing.read().split()]
        except OSError:
            return []

    def run(self):
        while self.running:
            for pid in self.pids:
                self.peak_parent = max(self.peak_parent, self.rss_mb(pid))
                for child in self.children(pid):
                    self.peak_child = max(self.peak_child, self.rss_mb(child))
            time.sleep(0.2)


def run_workers(env: dict, queue: str, workers: int = 2,
                worker_class: str = "worker.app.ShopWorker") -> tuple[float, RssSampler]:
    """Start ``workers`` burst workers on ``queue`` and wait until they have emptied it; the sampler also keeps the
    CPU seconds the workers used, their forked jobs and the jobs' Stan processes included."""
    started, cpu = time.perf_counter(), children_cpu()
    processes = [subprocess.Popen([os.path.join(VENV_BIN, "rq"), "worker", "-w", worker_class, "--burst",
                                   "--url", env["REDIS_URL"], "-q", queue], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    sampler = RssSampler([p.pid for p in processes])
    sampler.start()
    for process in processes:
        process.wait()
    sampler.running = False
    sampler.cpu_seconds = children_cpu() - cpu
    return time.perf_counter() - started, sampler


def children_cpu() -> float:
    """CPU seconds of this process's finished children and theirs: a figure the machine's load barely moves."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def schedule_nightly(env: dict, as_of: date, refit_all: bool = False) -> int:
    """What the nightly cron job does: the active products in chunk jobs, handed to RQ."""
    result = subprocess.run([os.path.join(VENV_BIN, "flask"), "--app", "wsgi", "forecast", "run", "--enqueue",
                             "--as-of", as_of.isoformat()] + (["--refit-all"] if refit_all else []), cwd=ROOT,
                            env=env, capture_output=True, text=True, check=True)
    return int(result.stdout.split()[0])


def refitted_on(url: str, day: date) -> int:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as connection:
        return connection.execute(text("SELECT count(*) FROM demand_forecasts WHERE fitted_on = :day"),
                                  {"day": day.isoformat()}).scalar()


def forget(url: str, forecasts: bool = False) -> None:
    """Let the same night's job ids be scheduled again (and, for a first night, drop the stored forecasts)."""
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(text("DELETE FROM pending_jobs"))
        if forecasts:
            connection.execute(text("DELETE FROM demand_forecasts"))


def bare_fits(env: dict, jobs: int) -> tuple[float, float]:
    """Seconds (and CPU seconds) for two workers to run ``jobs`` bare Prophet fits (no database), the machine's
    yardstick."""
    from redis import Redis
    from rq import Queue

    queue = Queue("bench-bare", connection=Redis.from_url(env["REDIS_URL"]))
    for _ in range(jobs):
        queue.enqueue("bench.forecast_yardstick.one_prophet_fit")
    seconds, sampler = run_workers(env, "bench-bare", worker_class="bench.forecast_yardstick.YardstickWorker")
    return seconds, sampler.cpu_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1, help="timed nights of each kind (the median is shown)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="solo-oms-forecast-bench-")
    redis = PrivateRedis(folder)
    url = f"sqlite:///{folder}/bench.sqlite3"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": redis.url}
    try:
        print(f"Preparing {args.products:,} products with two years of daily sales in {folder} ...", flush=True)
        as_of = prepare(url, args.products)
        # The yardstick before and after the nights: the load of a shared machine drifts during a long run.
        yardsticks = [bare_fits(env, min(args.products, 200))]
        nights = {"first": [], "next": [], "refit": []}
        cpu = {"first": [], "next": [], "refit": []}
        samplers, refits = [], []
        for _ in range(args.runs):
            forget(url, forecasts=True)
            for name, day, refit_all in (("first", as_of, False), ("next", as_of + timedelta(days=1), False),
                                         ("refit", as_of + timedelta(days=2), True)):
                forget(url)
                scheduled = schedule_nightly(env, day, refit_all)
                seconds, sampler = run_workers(env, "forecasts")
                nights[name].append(seconds)
                cpu[name].append(sampler.cpu_seconds)
                samplers.append(sampler)
                if name == "next":
                    refits.append(refitted_on(url, day))
        yardsticks.append(bare_fits(env, min(args.products, 200)))
        yardstick = statistics.mean(seconds for seconds, _ in yardsticks)
        yardstick_cpu = statistics.mean(cpu_seconds for _, cpu_seconds in yardsticks)
        per_bare = yardstick / min(args.products, 200)
        load = os.getloadavg()
        print(f"\nSolo OMS forecast benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, SQLite, "
              f"2 RQ workers, {scheduled:,} products x {DAYS} days, median of {args.runs}, "
              f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; yardstick before and after the nights: "
              f"{yardsticks[0][0]:.1f} s and {yardsticks[1][0]:.1f} s for {min(args.products, 200)} fits. "
              f"CPU s: what the workers, their jobs and Stan used in all (two workers' start included), a figure "
              f"the load barely moves; on two idle cores a night takes about half of it\n")
        print(f"| {'what':<60} | {'seconds':>8} | {'ms/product':>10} | {'vs bare fit':>11} | {'CPU s':>7} | target")
        print(f"|{'-' * 62}|{'-' * 10}|{'-' * 12}|{'-' * 13}|{'-' * 9}|--------")
        print(f"| {'bare Prophet fit + predict, no database (yardstick)':<60} | {yardstick:>8.1f} | "
              f"{per_bare * 1000:>10.0f} | {1:>11.2f} | {yardstick_cpu:>7.1f} |")
        target = "<= 60 s for 1,000" if scheduled == 1000 else f"<= {60 * scheduled / 1000:.0f} s pro rata"
        for name, what in (("first", "first night: every product fitted and backtested"),
                           ("refit", "full refit of every product (--refit-all)"),
                           ("next", f"next night: {statistics.median(refits):.0f} refitted, the rest kept")):
            seconds = statistics.median(nights[name])
            per = seconds / scheduled
            print(f"| {what:<60} | {seconds:>8.1f} | {per * 1000:>10.0f} | {per / per_bare:>11.2f} | "
                  f"{statistics.median(cpu[name]):>7.1f} | {target}")
            limit = 60 * scheduled / 1000
            record(f"forecasts, {scheduled:,} products x 2 years, 2 workers: {what}", f"{seconds:.0f} s",
                   f"{per / per_bare:.2f} x a bare Prophet fit ({per_bare * 1000:.0f} ms)", f"<= {limit:.0f} s",
                   seconds <= limit, "SQLite")
        peak = max(max(s.peak_parent, s.peak_child) for s in samplers)
        print(f"\nRQ worker RSS: parent peak {max(s.peak_parent for s in samplers):.0f} MB, "
              f"job process peak {max(s.peak_child for s in samplers):.0f} MB (target <= 400 MB)")
        record("RQ worker memory (forecasts)", f"{peak:.0f} MB RSS", "", "<= 400 MB", peak <= 400, "SQLite")
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
