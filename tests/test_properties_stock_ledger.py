"""Property tests of the stock ledger: any sequence of receive, adjust, reserve, release, order intake, cancel,
ship, deliver and return keeps each product's counters equal to its ledger and to a model of what should be
there, never lets available stock go negative, and leaves an activity entry for every movement."""
import itertools
from collections import Counter

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import new_order
from webapp.activity.models import ActivityEntry
from webapp.catalog.models import Product, StockMovement
from webapp.catalog.stock import StockError, adjust_stock, receive_stock, release_stock, reserve_stock
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.orders.workflow import RESERVING_STATUSES, TransitionRefused, transition

examples = itertools.count(1)
PRODUCTS = 2
product_index = st.integers(0, PRODUCTS - 1)
operations = st.one_of(
    st.tuples(st.just("receive"), product_index, st.integers(1, 20)),
    st.tuples(st.just("adjust"), product_index, st.integers(-15, 15)),
    st.tuples(st.just("reserve"), product_index, st.integers(1, 10)),  # set aside by hand, no order
    st.tuples(st.just("release"), product_index, st.integers(1, 10)),
    st.tuples(st.just("order"), product_index, st.integers(1, 8)),
    # A step for one of the orders taken so far (the index wraps): confirm a held one, process, ship ...
    *[st.tuples(st.sampled_from(["confirmed", "processing", "cancelled", "shipped", "delivered", "returned",
                                 "returned-kept"]), st.integers(0, 20), st.just(0))] * 3,
)


class ShopModel:
    """What the counters should be, worked out from the orders' statuses and the hand-made changes alone."""

    def __init__(self, products: list[Product]):
        self.products = products
        self.on_hand = Counter()
        self.by_hand_reserved = Counter()
        self.orders: list[tuple[int, int, int]] = []  # (order id, product index, quantity)

    def reserved(self, index: int) -> int:
        statuses = dict(db.session.execute(select(Order.id, Order.status)
                                           .where(Order.id.in_([o for o, _, _ in self.orders] or [0]))).all())
        held_for_orders = sum(q for order_id, i, q in self.orders
                              if i == index and statuses[order_id] in RESERVING_STATUSES)
        return held_for_orders + self.by_hand_reserved[index]


def apply(model: ShopModel, operation: tuple) -> None:
    name, index, amount = operation
    if name in ("receive", "adjust", "reserve", "release", "order"):
        product = model.products[index]
        db.session.refresh(product)
    try:
        if name == "receive":
            receive_stock(product, amount, reason="delivery", actor="test")
            model.on_hand[index] += amount
        elif name == "adjust":
            adjust_stock(product, amount, reason="stocktake", actor="test")
            model.on_hand[index] += amount
        elif name == "reserve":
            if reserve_stock(product.id, amount, order_id=None, actor="test"):
                model.by_hand_reserved[index] += amount
        elif name == "release":
            if amount > model.by_hand_reserved[index]:
                return  # only what was set aside by hand may be given back by hand
            release_stock(product.id, amount, order_id=None, actor="test")
            model.by_hand_reserved[index] -= amount
        elif name == "order":
            order = new_order(product.sku, amount)
            model.orders.append((order.id, index, amount))
        elif model.orders:
            order_id, index, quantity = model.orders[index % len(model.orders)]
            order = db.session.get(Order, order_id)
            to = "returned" if name == "returned-kept" else name
            transition(order, to, actor="test", carrier="DPD", restock=name == "returned")
            if to == "shipped":
                model.on_hand[index] -= quantity
            elif name == "returned":
                model.on_hand[index] += quantity
    except (StockError, TransitionRefused):
        db.session.rollback()  # refused: nothing of it may remain
        event(f"{name} refused")
        return
    db.session.commit()
    event(f"{name} done")


def assert_invariants(model: ShopModel) -> None:
    db.session.expire_all()
    for index, product in enumerate(model.products):
        db.session.refresh(product)
        ledger_on_hand, ledger_reserved, moves = db.session.execute(
            select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0),
                   func.coalesce(func.sum(StockMovement.reserved_delta), 0), func.count(StockMovement.id))
            .where(StockMovement.product_id == product.id)).one()
        assert (product.on_hand, product.reserved) == (ledger_on_hand, ledger_reserved), product.sku
        assert product.on_hand == model.on_hand[index], product.sku
        assert product.reserved == model.reserved(index), product.sku
        assert product.available >= 0
        logged = db.session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "stock",
                                                                ActivityEntry.thing_id == product.id)).all()
        assert len(logged) == moves
        deltas = Counter()
        for entry in logged:
            for name in ("on_hand", "reserved"):
                deltas[name] += int(entry.changes.get(name, [None, "0"])[1])
        assert (deltas["on_hand"], deltas["reserved"]) == (product.on_hand, product.reserved)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operations, min_size=8, max_size=20))
def test_any_sequence_keeps_the_ledger_the_counters_and_the_log_in_step(app, steps):
    n = next(examples)
    products = [Product(sku=f"L{n}-{i}", name=f"Thing {i}", unit_price=10) for i in range(PRODUCTS)]
    db.session.add_all(products)
    db.session.commit()
    model = ShopModel(products)
    for index in range(PRODUCTS):  # opening stock, so that most orders are confirmed and can move on
        apply(model, ("receive", index, 20))
    for step in steps:
        apply(model, step)
        assert_invariants(model)
