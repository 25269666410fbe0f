"""What the activity log costs order intake: API orders timed in-process (CPU time) with the recorder on and off.

Rounds alternate (off, on, off, on ...) so a noisy shared machine hurts both sides alike; each figure is the
median of the rounds. The HTTP layer is Flask's test client, so the difference is the log's own work (the
after_flush pass and its INSERT/UPDATE), not network noise. Usage:
    .venv/bin/python bench/activity_overhead.py [--orders 300] [--rounds 5] [--database-url URL]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.activity import recording  # noqa: E402
from webapp.auth.models import User  # noqa: E402
from webapp.auth.tokens import create_api_token  # noqa: E402
from webapp.catalog.models import Product  # noqa: E402
from webapp.extensions import db  # noqa: E402


def time_orders(client, token: str, count: int, start: int) -> float:
    """Seconds per order for ``count`` API orders (each a new customer, two lines, confirmed)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    began = time.process_time()
    for n in range(start, start + count):
        body = {"customer": {"name": f"C {n}", "email": f"c{n}@example.com",
                             "address": {"line1": "1 High St", "city": "Leeds", "country": "GB"}},
                "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "BOWL", "quantity": 2}]}
        response = client.post("/api/v1/orders", data=json.dumps(body), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
    return (time.process_time() - began) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        user = User(email="bench@example.com", role="owner")
        user.set_password("a long bench password")
        db.session.add(user)
        db.session.add_all([Product(sku=sku, name=sku, unit_price=Decimal("10"), on_hand=10**8)
                            for sku in ("MUG", "BOWL")])
        token = create_api_token(user, ["orders:write", "orders:read"])
        db.session.commit()
    client = app.test_client()
    time_orders(client, token, 50, 0)  # warm up
    timings = {"off": [], "on": []}
    done = 50
    for _ in range(args.rounds):
        for side in ("off", "on"):
            for name, listener in (("after_flush", recording.note_flush), ("before_commit", recording.write_entries)):
                (event.remove if side == "off" else event.listen)(db.session, name, listener)
            timings[side].append(time_orders(client, token, args.orders, done))
            done += args.orders
    off, on = (statistics.median(timings[side]) * 1000 for side in ("off", "on"))
    print(f"{url.split(':')[0]}: {args.rounds} rounds x {args.orders} API orders (2 lines each)")
    print(f"  without the activity log: {off:.2f} ms/order   with: {on:.2f} ms/order   "
          f"overhead: {on - off:+.2f} ms ({(on / off - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
