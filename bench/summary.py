"""One row per §7 target for `make bench`'s closing table: each bench script records its headline figures here
(when BENCH_SUMMARY names a file), and bench/all.py prints them together."""
import json
import os


def record(what: str, figure: str, ratio: str, target: str, met: bool | None, database: str) -> None:
    """Add a row: what was measured, the figure, its ratio to the bare yardstick, the target and whether it holds."""
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"what": what, "figure": figure, "ratio": ratio, "target": target, "met": met,
                              "database": database}) + "\n")


def read(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as rows:
        return [json.loads(line) for line in rows if line.strip()]
