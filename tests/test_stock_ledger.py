"""The stock rules in isolation: every change is one conditional UPDATE plus one ledger row."""
import pytest
from sqlalchemy import func, select

from webapp.catalog.models import Product, StockMovement
from webapp.catalog.stock import StockError, adjust_stock, receive_stock, reserve_stock
from webapp.extensions import db


def assert_ledger_matches():
    """Each product's on_hand and reserved equal the sums of its movements."""
    db.session.expire_all()
    for product in db.session.scalars(select(Product)):
        on_hand, reserved = db.session.execute(
            select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0),
                   func.coalesce(func.sum(StockMovement.reserved_delta), 0))
            .where(StockMovement.product_id == product.id)
        ).one()
        assert (product.on_hand, product.reserved) == (on_hand, reserved), product.sku
        assert product.available >= 0


def test_receive_and_adjust_write_movements(app, make_product):
    product = make_product("MUG-BLU", stock=0)
    receive_stock(product, 12, reason="delivery 4411", actor="owner")
    adjust_stock(product, -2, reason="two broke", actor="owner")
    db.session.commit()
    db.session.refresh(product)
    assert (product.on_hand, product.reserved) == (10, 0)
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["receive", "adjust"]
    assert_ledger_matches()


def test_adjust_cannot_take_stock_below_what_is_reserved(app, make_product):
    product = make_product("MUG-BLU", stock=5)
    assert reserve_stock(product.id, 4, order_id=None, actor="t")
    db.session.commit()
    with pytest.raises(StockError, match="only 1 are not reserved"):
        adjust_stock(product, -2, reason="count", actor="owner")
    db.session.rollback()
    assert_ledger_matches()


def test_reserve_refuses_more_than_available(app, make_product):
    product = make_product("MUG-BLU", stock=3)
    assert not reserve_stock(product.id, 4, order_id=None, actor="t")
    assert reserve_stock(product.id, 3, order_id=None, actor="t")
    assert not reserve_stock(product.id, 1, order_id=None, actor="t")
    db.session.commit()
    assert_ledger_matches()


@pytest.mark.parametrize("quantity, reason, message", [
    (0, "x", "at least one unit"),
    (3, "   ", "Say why"),
])
def test_adjust_needs_a_change_and_a_reason(app, make_product, quantity, reason, message):
    product = make_product("MUG-BLU", stock=5)
    with pytest.raises(StockError, match=message):
        adjust_stock(product, quantity, reason=reason, actor="owner")


def test_receive_needs_a_positive_quantity(app, make_product):
    product = make_product("MUG-BLU", stock=5)
    with pytest.raises(StockError):
        receive_stock(product, -1, reason="x", actor="owner")


def test_database_refuses_negative_available_even_behind_our_back(app, make_product):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    product = make_product("MUG-BLU", stock=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Product).where(Product.id == product.id).values(reserved=3))
        db.session.flush()
    db.session.rollback()
