"""The stock rules: every change of on_hand or reserved is one conditional UPDATE plus one ledger row.

The conditions live in the UPDATE itself (``WHERE on_hand - reserved >= :qty``), so concurrent requests can
never oversell, on SQLite or PostgreSQL, and the product's counters always equal the ledger's sums. Each rule's
UPDATE is built once, with parameters: every API order reserves, and building it again cost more than running it.
"""
from sqlalchemy import bindparam, true, update

from webapp.catalog.models import Product, StockMovement
from webapp.extensions import db
from webapp.timekeeping import utcnow


class StockError(Exception):
    """A stock change that would break a rule (negative stock, more than is reserved ...)."""


PRODUCTS = Product.__table__
_QUANTITY = bindparam("quantity", type_=PRODUCTS.c.on_hand.type)


def _change_where(condition):
    """The UPDATE of one product's counters, applied only where ``condition`` holds."""
    return (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("product_id"), condition)
            .values(on_hand=PRODUCTS.c.on_hand + bindparam("on_hand_delta", type_=PRODUCTS.c.on_hand.type),
                    reserved=PRODUCTS.c.reserved + bindparam("reserved_delta", type_=PRODUCTS.c.reserved.type),
                    updated_at=bindparam("now", type_=PRODUCTS.c.updated_at.type)))


ALWAYS = _change_where(true())
ENOUGH_AVAILABLE = _change_where(PRODUCTS.c.on_hand - PRODUCTS.c.reserved >= _QUANTITY)
ENOUGH_RESERVED = _change_where(PRODUCTS.c.reserved >= _QUANTITY)
STAYS_ABOVE_RESERVED = _change_where(PRODUCTS.c.on_hand + _QUANTITY >= PRODUCTS.c.reserved)


def _apply(product_id: int, *, kind: str, on_hand_delta: int, reserved_delta: int, rule, quantity: int = 0,
           reason: str, actor: str, order_id: int | None) -> bool:
    if db.session.autoflush:  # as the session's own execute would: pending changes go first
        db.session.flush()
    changed = db.session.connection().execute(rule, {
        "product_id": product_id, "on_hand_delta": on_hand_delta, "reserved_delta": reserved_delta,
        "quantity": quantity, "now": utcnow()}).rowcount
    if changed != 1:
        return False
    db.session.add(StockMovement(
        product_id=product_id, kind=kind, on_hand_delta=on_hand_delta, reserved_delta=reserved_delta,
        reason=reason, order_id=order_id, actor=actor,
    ))
    cached = db.session.identity_map.get(db.session.identity_key(Product, product_id))
    if cached is not None:
        db.session.expire(cached, ["on_hand", "reserved", "updated_at"])
    return True


def receive_stock(product: Product, quantity: int, *, reason: str, actor: str) -> None:
    """Goods arrived from a supplier: on_hand goes up."""
    if quantity <= 0:
        raise StockError("Quantity received must be a positive whole number.")
    _apply(product.id, kind="receive", on_hand_delta=quantity, reserved_delta=0, rule=ALWAYS,
           reason=reason or "received", actor=actor, order_id=None)


def adjust_stock(product: Product, delta: int, *, reason: str, actor: str) -> None:
    """A counted correction (breakage, stocktake). It may not take on_hand below what is reserved."""
    if delta == 0:
        raise StockError("An adjustment must change the stock by at least one unit.")
    if not reason.strip():
        raise StockError("Say why the stock is adjusted.")
    applied = _apply(product.id, kind="adjust", on_hand_delta=delta, reserved_delta=0,
                     rule=STAYS_ABOVE_RESERVED, quantity=delta, reason=reason.strip(),
                     actor=actor, order_id=None)
    if not applied:
        raise StockError(
            f"Cannot remove {-delta} of {product.sku}: only {product.on_hand - product.reserved} "
            "are not reserved for orders."
        )


def reserve_stock(product_id: int, quantity: int, *, order_id: int, actor: str) -> bool:
    """Set units aside for a confirmed order; False when fewer than ``quantity`` are available."""
    return _apply(product_id, kind="reserve", on_hand_delta=0, reserved_delta=quantity,
                  rule=ENOUGH_AVAILABLE, quantity=quantity, reason="order confirmed",
                  actor=actor, order_id=order_id)


def release_stock(product_id: int, quantity: int, *, order_id: int, actor: str) -> None:
    """Give a cancelled order's reservation back."""
    if not _apply(product_id, kind="release", on_hand_delta=0, reserved_delta=-quantity,
                  rule=ENOUGH_RESERVED, quantity=quantity, reason="order cancelled", actor=actor,
                  order_id=order_id):
        raise StockError("The reservation to release is larger than what is reserved.")


def ship_stock(product_id: int, quantity: int, *, order_id: int, actor: str) -> None:
    """Reserved units leave the building: both on_hand and reserved go down."""
    if not _apply(product_id, kind="ship", on_hand_delta=-quantity, reserved_delta=-quantity,
                  rule=ENOUGH_RESERVED, quantity=quantity, reason="order shipped", actor=actor,
                  order_id=order_id):
        raise StockError("The shipment is larger than what is reserved for it.")


def restock_return(product_id: int, quantity: int, *, order_id: int, actor: str) -> None:
    """Returned goods go back on the shelf."""
    _apply(product_id, kind="return", on_hand_delta=quantity, reserved_delta=0, rule=ALWAYS,
           reason="order returned", actor=actor, order_id=order_id)
