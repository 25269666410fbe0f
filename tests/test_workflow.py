"""The lifecycle table: every allowed and every refused transition, and what each does to stock."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import order_in_status
from tests.test_stock_ledger import assert_ledger_matches
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.models import OrderEvent
from webapp.orders.workflow import (
    STATUSES,
    TRANSITIONS,
    MissingShipmentDetails,
    TransitionRefused,
    add_note,
    set_payment_status,
    transition,
)

# Stock of the product (on_hand, reserved) once an order for 2 of 10 units has reached each status.
STOCK_AFTER = {
    "pending": (10, 0), "on_hold": (10, 0), "rejected": (10, 0), "confirmed": (10, 2), "processing": (10, 2),
    "shipped": (8, 0), "delivered": (8, 0), "cancelled": (10, 0), "returned": (10, 0),
}
ALLOWED = [(source, target) for source in STATUSES for target in TRANSITIONS[source]]
REFUSED = [(source, target) for source in STATUSES for target in STATUSES
           if target not in TRANSITIONS[source]]


def _stock():
    db.session.expire_all()
    product = db.session.scalars(select(Product).where(Product.sku == "MUG-BLU")).one()
    return product.on_hand, product.reserved


def test_the_table_is_the_one_in_the_design():
    assert TRANSITIONS == {
        "pending": ("confirmed", "on_hold", "rejected"), "on_hold": ("confirmed", "cancelled"),
        "confirmed": ("processing", "shipped", "cancelled"), "processing": ("shipped", "cancelled"),
        "shipped": ("delivered", "returned"), "delivered": ("returned",),
        "rejected": (), "cancelled": (), "returned": (),
    }
    assert len(ALLOWED) == 13 and len(REFUSED) == 9 * 9 - 13


@pytest.mark.parametrize("source, target", ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_allowed_transition(app, make_product, source, target):
    make_product("MUG-BLU", stock=10)
    order = order_in_status(source)
    assert order.status == source and _stock() == STOCK_AFTER[source]
    status_events = [event for event in order.events if event.kind == "status"]

    transition(order, target, actor="owner@example.com", carrier="Royal Mail", tracking_number="RM1", note="ok")
    db.session.commit()

    assert order.status == target
    assert _stock() == STOCK_AFTER[target]
    event = [event for event in order.events if event.kind == "status"][-1]
    assert len([event for event in order.events if event.kind == "status"]) == len(status_events) + 1
    assert (event.kind, event.from_status, event.to_status, event.actor) == ("status", source, target,
                                                                             "owner@example.com")
    assert event.created_at is not None
    if target == "shipped":
        assert (order.carrier, order.tracking_number) == ("Royal Mail", "RM1") and order.shipped_at
    if target == "confirmed":
        assert order.hold_reasons == []
    assert_ledger_matches()


@pytest.mark.parametrize("source, target", REFUSED, ids=[f"{s}->{t}" for s, t in REFUSED])
def test_refused_transition_changes_nothing(app, make_product, source, target):
    make_product("MUG-BLU", stock=10)
    order = order_in_status(source)
    events_before = len(order.events)
    with pytest.raises(TransitionRefused) as refusal:
        transition(order, target, actor="owner", carrier="DPD")
    assert order.number in refusal.value.message
    db.session.rollback()
    db.session.refresh(order)
    assert order.status == source and len(order.events) == events_before
    assert _stock() == STOCK_AFTER[source]


def test_unknown_status_is_refused(app, make_product):
    make_product("MUG-BLU", stock=10)
    with pytest.raises(TransitionRefused, match="not an order status"):
        transition(order_in_status("confirmed"), "lost", actor="owner")


def test_return_without_restock_keeps_stock_out(app, make_product):
    make_product("MUG-BLU", stock=10)
    order = order_in_status("delivered")
    transition(order, "returned", actor="owner", restock=False)
    db.session.commit()
    assert _stock() == (8, 0)
    assert order.events[-1].note == "not restocked"
    assert_ledger_matches()


def test_confirming_a_held_order_needs_the_stock(app, make_product):
    make_product("MUG-BLU", stock=10)
    held = order_in_status("on_hold", quantity=8)
    order_in_status("confirmed", quantity=5)  # takes 5 of the 10
    with pytest.raises(TransitionRefused, match="Not enough stock"):
        transition(held, "confirmed", actor="owner")
    db.session.rollback()
    assert _stock() == (10, 5)
    assert_ledger_matches()


def test_shipping_needs_a_carrier(app, make_product):
    make_product("MUG-BLU", stock=10)
    order = order_in_status("processing")
    with pytest.raises(MissingShipmentDetails):
        transition(order, "shipped", actor="owner", carrier="  ")
    db.session.rollback()
    assert _stock() == (10, 2)


@pytest.mark.parametrize("path, refused", [
    (["paid"], "unpaid"), (["paid", "refunded"], "paid"), (["paid", "partially_refunded", "refunded"], "paid"),
])
def test_payment_status_is_its_own_axis(app, make_product, path, refused):
    make_product("MUG-BLU", stock=10)
    order = order_in_status("shipped")
    for step in path:
        set_payment_status(order, step, actor="owner",
                           amount=Decimal("5.00") if step == "partially_refunded" else None)
    db.session.commit()
    assert order.payment_status == path[-1] and order.status == "shipped"
    assert [e.to_status for e in order.events if e.kind == "payment"] == path
    with pytest.raises(TransitionRefused):
        set_payment_status(order, refused, actor="owner")


def test_notes_go_on_the_timeline(app, make_product):
    make_product("MUG-BLU", stock=10)
    order = order_in_status("confirmed")
    add_note(order, "Customer asked for gift wrap", actor="owner")
    db.session.commit()
    note = db.session.scalars(select(OrderEvent).where(OrderEvent.kind == "note")).one()
    assert (note.note, note.actor) == ("Customer asked for gift wrap", "owner")
    with pytest.raises(TransitionRefused):
        add_note(order, "   ", actor="owner")
