"""`make bench`: every DESIGN.md §7 target measured end to end on this machine, on SQLite and (when a server
answers) on PostgreSQL, then one table of the headline figures with their ratio to a bare yardstick measured the
same way (a Flask "hello", a bare WeasyPrint render, a bare Prophet fit) and whether each target holds.

Each bench script also prints its own detailed table as it goes. Usage:
.venv/bin/python bench/all.py [--quick] [--postgres postgresql://postgres@127.0.0.1:5432/solo_oms_bench]
``--quick`` runs every script at a tenth of its size (a smoke run; the figures are not the targets' sizes).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.summary import read  # noqa: E402

PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


def postgres_answers(url: str) -> bool:
    """Whether the server answers (through its own `postgres` database: the bench's may not exist yet)."""
    from sqlalchemy import create_engine, text

    server = url.rpartition("/")[0]
    try:
        engine = create_engine(f"{server}/postgres".replace("postgresql://", "postgresql+psycopg://", 1),
                               connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped, and the table says so
        return False


def ensure_database(url: str) -> None:
    """Create the bench database on the server if it is not there yet."""
    from sqlalchemy import create_engine, text

    server, _, name = url.rpartition("/")
    engine = create_engine(f"{server}/postgres".replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/solo_oms_bench"))
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    summary = tempfile.NamedTemporaryFile(prefix="solo-oms-bench-", suffix=".jsonl", delete=False).name
    env = {**os.environ, "BENCH_SUMMARY": summary}
    postgres = postgres_answers(args.postgres)
    import_database = f"{args.postgres}_import"  # the import bench wants an empty database of its own
    if postgres:
        ensure_database(args.postgres)
        ensure_database(import_database)
    runs = [
        ["bench/run.py", "--orders", str(100_000 // scale)],
        ["bench/dashboard.py", "--lines", str(1_000_000 // scale)],
        ["bench/import.py", "--lines", str(200_000 // scale)],
        ["bench/forecasts.py", "--products", str(1000 // scale)],
        ["bench/invoices.py", "--invoices", str(300 // scale)],
    ]
    if postgres:
        runs += [
            ["bench/run.py", "--orders", str(100_000 // scale), "--database", args.postgres],
            ["bench/dashboard.py", "--lines", str(1_000_000 // scale), "--database", args.postgres],
            ["bench/import.py", "--lines", str(200_000 // scale), "--database", import_database],
            ["bench/invoices.py", "--invoices", str(300 // scale), "--database", args.postgres],
        ]
    started = time.time()
    for command in runs:
        print(f"\n=== {' '.join(command)}", flush=True)
        result = subprocess.run([PYTHON, *command], cwd=ROOT, env=env)
        if result.returncode != 0:
            print(f"!!! {command[0]} failed with exit code {result.returncode}", flush=True)
    rows = read(summary)
    os.unlink(summary)
    load = os.getloadavg()[0]
    quick = " (QUICK: a tenth of the sizes)" if args.quick else ""
    skipped = "" if postgres else ", PostgreSQL not reachable: its rows skipped"
    print(f"\nSolo OMS — DESIGN.md §7 targets, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
          f"load {load:.1f}, {(time.time() - started) / 60:.0f} min{quick}{skipped}\n")
    print("| what | database | figure | vs yardstick | target | holds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        holds = {True: "yes", False: "**no**", None: "-"}[row["met"]]
        print(f"| {row['what']} | {row['database']} | {row['figure']} | {row['ratio']} | {row['target']} | {holds} |")


if __name__ == "__main__":
    main()
