"""The activity log records every write from one place, in the write's own transaction, naming who did it."""
import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from tests.conftest import order_body
from tests.test_csv_import import GENERIC_HEADER, write_csv
from webapp.activity.models import ActivityEntry
from webapp.activity.tracked import REDACTED
from webapp.catalog.models import Product, StockMovement
from webapp.extensions import db
from webapp.imports import importing
from webapp.imports.importing import import_orders
from webapp.settings.models import current_settings
from worker import redis_connection


def entries(**where) -> list[ActivityEntry]:
    db.session.expire_all()
    query = select(ActivityEntry).filter_by(**where).order_by(ActivityEntry.id)
    return list(db.session.scalars(query))


def rename_product(product_id: int, name: str) -> None:
    """A job that writes (run by a real worker below)."""
    db.session.get(Product, product_id).name = name
    db.session.commit()


def test_an_order_taken_by_api_is_one_entry_with_its_final_state_and_the_token_as_actor(api, make_product):
    make_product("MUG-BLU", stock=5)
    response = api.post("/orders", order_body(quantity=2), key="k1")
    assert response.status_code == 201, response.json
    number = response.json["number"]

    [order_entry] = entries(kind="order")
    assert (order_entry.action, order_entry.thing_ref) == ("created", number)
    assert order_entry.actor.startswith("api-owner@example.com (API token soms_")
    assert order_entry.actor_user_id is not None
    assert order_entry.changes["status"] == [None, "confirmed"]  # the audit's decision, merged into one entry
    assert order_entry.changes["number"] == [None, number]
    assert order_entry.changes["line MUG-BLU"] == [None, "2 × 14.00"]
    assert "[created → pending] Received via api." in order_entry.note
    assert "[status pending → confirmed]" in order_entry.note
    reserve = entries(kind="stock", action="reserve")[0]
    assert (reserve.thing_ref, reserve.changes) == ("MUG-BLU", {"reserved": [None, "+2"], "order": [None, number]})
    assert reserve.actor == order_entry.actor
    assert [e.kind for e in entries(kind="customer")] == ["customer"]


def test_status_changes_by_a_signed_in_person_show_old_and_new(client, auth, make_product):
    from tests.factories import new_order

    make_product("MUG-BLU", stock=5)
    auth.login()
    order = new_order()
    response = client.post(f"/orders/{order.number}/transitions", data={"to": "shipped", "carrier": "DPD",
                                                                       "tracking_number": "T42"})
    assert response.status_code in (200, 303), response.data
    latest = entries(kind="order", thing_ref=order.number)[-1]  # shipping also invoices: one entry for it all
    assert latest.actor == "owner@example.com"
    assert latest.changes["status"] == ["confirmed", "shipped"]
    assert latest.changes["carrier"] == [None, "DPD"]
    assert "updated_at" not in latest.changes
    assert "[invoice] Invoice INV-" in latest.note
    assert entries(kind="stock", action="ship")[0].changes == {"on_hand": [None, "-2"], "reserved": [None, "-2"],
                                                               "order": [None, order.number]}


def test_secrets_and_hashes_are_redacted(client, auth, runner):
    auth.login()
    current_settings()
    db.session.commit()
    settings = current_settings()
    settings.shopify_webhook_secret = "shpss_very_secret_value"
    settings.shop_name = "Hollow Hill"
    db.session.commit()
    [entry] = entries(kind="settings", action="changed")
    assert entry.changes["shopify_webhook_secret"] == [None, REDACTED]
    assert entry.changes["shop_name"] == ["My shop", "Hollow Hill"]

    result = runner.invoke(args=["users", "create", "--email", "helper@example.com", "--password",
                                 "another long password", "--role", "staff"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tokens", "create", "--email", "helper@example.com"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    [user] = entries(kind="user", thing_ref="helper@example.com")
    assert (user.actor, user.changes["password_hash"], user.changes["role"]) == ("cli", [None, REDACTED],
                                                                                 [None, "staff"])
    [token] = entries(kind="token")
    assert token.actor == "cli" and token.changes["token_hash"] == [None, REDACTED]
    everything = " ".join(str(e.changes) + e.note for e in entries())
    assert "shpss_very_secret_value" not in everything and secret not in everything
    assert "$argon2" not in everything


def test_using_a_token_is_not_an_entry_but_revoking_it_is(api, runner):
    before = len(entries())
    api.get("/orders")
    api.get("/products")
    assert len(entries()) == before  # last_used_at is bookkeeping, not an act
    prefix = db.session.scalar(select(ActivityEntry.thing_ref).where(ActivityEntry.kind == "token")).rstrip("…")
    result = runner.invoke(args=["tokens", "revoke", prefix])
    assert result.exit_code == 0, result.output
    assert "revoked_at" in entries(kind="token")[-1].changes


def test_an_entry_is_written_with_its_change_and_rolls_back_with_it(app, make_product):
    product = make_product("MUG-BLU", stock=5)
    before = len(entries())
    db.session.get(Product, product.id).name = "Renamed"
    db.session.flush()
    db.session.rollback()
    assert len(entries()) == before  # nothing of a rolled-back change is logged
    db.session.get(Product, product.id).name = "Renamed"
    db.session.commit()
    assert [e.changes["name"] for e in entries()[before:]] == [["Product MUG-BLU", "Renamed"]]


def test_a_rolled_back_savepoint_takes_its_notes_and_a_released_one_keeps_them(app, make_product):
    product = make_product("MUG-BLU", stock=5)
    other = make_product("BOWL", stock=5)
    before = len(entries())
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            db.session.get(Product, product.id).name = "Gone"
            db.session.flush()
            raise RuntimeError
    with db.session.begin_nested():
        db.session.get(Product, other.id).name = "Bowl"
        with db.session.begin_nested():
            db.session.get(Product, other.id).reorder_point = 9
    db.session.get(Product, product.id).name = "Kept"
    db.session.commit()
    assert sorted((e.thing_ref, sorted(e.changes.items())) for e in entries()[before:]) == [
        ("BOWL", [("name", ["Product BOWL", "Bowl"]), ("reorder_point", ["2", "9"])]),
        ("MUG-BLU", [("name", ["Product MUG-BLU", "Kept"])]),
    ]


def test_every_stock_movement_has_an_entry(app, make_product):
    from tests.factories import order_in_status

    make_product("MUG-BLU", stock=10)
    for status in ("cancelled", "returned", "delivered"):
        order_in_status(status)
    movements = db.session.scalars(select(StockMovement).order_by(StockMovement.id)).all()
    stock_entries = entries(kind="stock")
    assert [(e.action, e.thing_ref) for e in stock_entries] == [(m.kind, "MUG-BLU") for m in movements]


def test_a_webhook_is_the_actor_of_the_orders_it_brings(client, app, make_product):
    from tests.test_webhooks_in import SHOPIFY_SECRET, deliver, shopify_sample

    settings = current_settings()
    settings.shopify_webhook_secret = SHOPIFY_SECRET
    db.session.commit()
    for colour in ("GREEN", "RED", "BLACK"):
        make_product(f"IPOD2008{colour}", price="199.00", stock=5)
    assert deliver(client, "shopify", shopify_sample()).status_code == 201
    assert {e.actor for e in entries(kind="order")} == {"webhook:shopify"}


def test_a_job_is_the_actor_of_what_it_writes(app, make_product):
    product = make_product("MUG-BLU", stock=1)
    queue = Queue("default", connection=redis_connection())
    job = queue.enqueue(rename_product, product.id, "Mug, blue")
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    assert job.get_status(refresh=True) == "finished"
    [entry] = [e for e in entries(kind="product") if e.action == "changed"]
    assert (entry.actor, entry.changes["name"]) == (f"job:{job.id}", ["Product MUG-BLU", "Mug, blue"])


def test_a_history_import_is_one_entry_per_batch_not_per_row(app, make_product, tmp_path, monkeypatch):
    make_product("MUG-BLU", stock=1)
    monkeypatch.setattr(importing.HistoryImport, "batch_orders", 2)
    rows = [[f"A{n}", "2024-03-01", "delivered", "MUG-BLU", "Mug", 1, "14.00", "GBP", f"c{n}@example.com",
             f"C {n}", "GB", "Bath"] for n in range(5)]
    before = len(entries())
    summary = import_orders(write_csv(tmp_path / "h.csv", GENERIC_HEADER, rows), "generic", history=True)
    assert summary.orders == 5
    new = [e for e in entries()[before:] if e.kind != "settings"]  # the settings row is made on first use
    assert [(e.kind, e.action, e.thing_ref) for e in new] == [("import", "imported", "h.csv")] * 3
    assert [e.note.split(" orders")[0] for e in new] == ["History import of 2"] * 2 + ["History import of 1"]


def test_a_dry_run_import_leaves_no_entry(app, make_product, tmp_path):
    make_product("MUG-BLU", stock=1)
    rows = [["A1", "2024-03-01", "delivered", "MUG-BLU", "Mug", 1, "14.00", "GBP", "", "Ann", "GB", "Bath"]]
    before = len(entries())
    import_orders(write_csv(tmp_path / "h.csv", GENERIC_HEADER, rows), "generic", history=True, dry_run=True)
    assert len(entries()) == before


def test_webhooks_out_added_and_removed_by_the_owner(client, auth):
    auth.login()
    # Receivers such as Slack carry a secret in the path: the log keeps the host only (viewers read the log).
    url = "https://hooks.example.com/services/T00/B00/SuperSecretPathToken"
    response = client.post("/settings/webhooks", data={"url": url, "events": "order.created"})
    assert response.status_code == 303, response.data
    [added] = entries(kind="webhook")
    assert (added.action, added.thing_ref, added.actor) == ("created", "https://hooks.example.com/…",
                                                            "owner@example.com")
    assert added.changes["secret"] == [None, REDACTED]
    client.post(f"/settings/webhooks/{added.thing_id}/delete")
    removed = entries(kind="webhook")[-1]
    assert (removed.action, removed.changes["url"]) == ("deleted", ["https://hooks.example.com/…", None])
    assert "SuperSecretPathToken" not in client.get("/activity.csv?kind=webhook").get_data(as_text=True)


def test_a_product_edit_on_its_page_names_the_fields(client, auth, make_product):
    make_product("MUG-BLU", price="14.00", stock=1)
    auth.login()
    client.post("/products/MUG-BLU/edit", data={"sku": "MUG-BLU", "name": "Blue mug", "unit_price": "15.50",
                                                "reorder_point": "2", "lead_time_days": "7", "active": "on"})
    [edit] = entries(kind="product", action="changed")
    assert edit.changes["unit_price"] == ["14.00", "15.50"] and edit.changes["name"] == ["Product MUG-BLU",
                                                                                          "Blue mug"]
