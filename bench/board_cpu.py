"""What one board request costs in CPU, in-process: the fragment, an unchanged poll (304) and a bare Flask hello.

A signed-in Flask test client asks as the board asks (HX-Request: true; the poll adds If-None-Match with the
ETag) on a shop like bench/run.py prepares (100,000 orders by default, mostly delivered). The fragment is
measured twice: rendered afresh (each web process keeps the fragment of a board version; it is forgotten before
each of these requests) and as bench/run.py asks for it (the same version again within the minute). Each figure
is the median over the rounds of the CPU milliseconds per request (time.process_time), so a busy machine hurts it
far less than a wall-clock figure. Usage:
    .venv/bin/python bench/board_cpu.py [--orders 100000] [--rounds 7] [--database-url postgresql://...]
        [--keep]       (keep the scratch SQLite shop and print its URL)
        [--prepared]   (the database at --database-url already holds a bench shop: measure it as it is)
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import Flask  # noqa: E402

from bench.run import BENCH_AGENT, prepare_database, sqlalchemy_url  # noqa: E402
from webapp import create_app  # noqa: E402


def per_request_ms(client, count: int, headers: dict, status: int, path: str = "/board", before=None) -> float:
    """CPU milliseconds per request over ``count`` requests answered with ``status`` (``before()`` runs untimed
    ahead of each).

    A poll whose ETag went stale (the minute turned: card ages move) is answered 200 instead; it is not counted,
    and the next polls carry the new ETag, as a browser's would."""
    spent, answered = 0.0, 0
    while answered < count:
        if before:
            before()
        began = time.process_time()
        response = client.get(path, headers=headers)
        took = time.process_time() - began
        if response.status_code == 200 and status == 304:
            headers["If-None-Match"] = response.headers["ETag"]
            continue
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
        spent += took
        answered += 1
    return spent * 1000 / count


def signed_in_client(app: Flask):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BENCH_AGENT
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "bench@example.com", "password": "bench password 1",
                                           "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fragments", type=int, default=20, help="fragment requests per round")
    parser.add_argument("--polls", type=int, default=200, help="304 polls (and hellos) per round")
    parser.add_argument("--database-url", help="PostgreSQL (its tables are dropped) or SQLite URL; default a "
                                               "scratch SQLite file")
    parser.add_argument("--prepared", action="store_true", help="the database already holds a bench shop")
    parser.add_argument("--keep", action="store_true", help="keep the scratch SQLite shop for --prepared")
    args = parser.parse_args()

    url, folder = args.database_url, None
    if not args.prepared:
        folder = tempfile.mkdtemp(prefix="solo-oms-board-cpu-")
        print(f"Preparing a shop with {args.orders:,} orders ...", flush=True)
        url, _token = prepare_database(folder, args.orders, url if url and url.startswith("postgres") else None)
    url = sqlalchemy_url(url)
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    client = signed_in_client(app)
    fragment = {"HX-Request": "true"}
    first = client.get("/board", headers=fragment)
    assert first.status_code == 200 and 'id="board"' in first.get_data(as_text=True), "not signed in"
    poll = {**fragment, "If-None-Match": first.headers["ETag"]}

    hello_app = Flask("hello")
    hello_app.get("/hello")(lambda: "hello")
    hello = hello_app.test_client()

    def forget_rendered_fragments():
        app.extensions.get("board_fragments", {}).clear()

    results = {"rendered": [], "fragment": [], "poll": [], "hello": []}
    for _ in range(args.rounds):
        results["rendered"].append(per_request_ms(client, args.fragments, fragment, 200,
                                                  before=forget_rendered_fragments))
        results["fragment"].append(per_request_ms(client, args.fragments, fragment, 200))
        results["poll"].append(per_request_ms(client, args.polls, poll, 304))
        results["hello"].append(per_request_ms(hello, args.polls, {}, 200, "/hello"))
    print(f"\nBoard CPU per request, {engine}, median of {args.rounds} rounds "
          f"({args.fragments} fragments, {args.polls} polls and hellos each):")
    for name, label in (("rendered", "board fragment, rendered afresh"), ("fragment", "board fragment (200)"),
                        ("poll", "unchanged poll (304)"),
                        ("hello", "bare Flask hello (test client)")):
        values = results[name]
        print(f"  {label:<32} {statistics.median(values):7.2f} ms  (rounds {min(values):.2f}-{max(values):.2f})")
    print(f"  fragment size: {len(first.get_data()):,} bytes")
    if folder and engine == "SQLite":
        if args.keep:
            print(f"  the shop is kept: --database-url {url} --prepared")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
