"""Orders in any status, made through the real intake and workflow."""
import itertools
from decimal import Decimal

from webapp.extensions import db
from webapp.orders.intake import take_order
from webapp.orders.models import Order, OrderLine
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import transition

ADDRESS = {"line1": "12 High St", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}


_customer_numbers = itertools.count(1)


def new_order(sku="MUG-BLU", quantity=2, *, name=None, email=None, address=ADDRESS, **extra) -> Order:
    """An order through the real intake; each call is a new customer unless name/email are given."""
    if name is None:
        n = next(_customer_numbers)
        name, email = f"Customer {n}", f"customer{n}@example.com"
    payload = {"customer": {"name": name, "email": email, "address": address},
               "lines": [{"sku": sku, "quantity": quantity}], "channel": "web"}
    payload.update(extra)
    order = take_order(OrderIn.model_validate(payload), actor="test")
    db.session.commit()
    return order


# How to reach each status from a freshly confirmed order.
PATHS = {
    "confirmed": [], "processing": ["processing"], "shipped": ["shipped"], "delivered": ["shipped", "delivered"],
    "cancelled": ["cancelled"], "returned": ["shipped", "delivered", "returned"],
}


def order_in_status(status: str, sku="MUG-BLU", quantity=2) -> Order:
    """An order of ``quantity`` x ``sku`` that has reached ``status`` the way a real one would."""
    if status == "pending":  # received, not audited yet
        from webapp.customers.matching import match_or_create_customer

        customer = match_or_create_customer(name="Jane Doe", email="jane@example.com", phone=None, address=ADDRESS)
        from webapp.catalog.products import find_product

        product = find_product(sku)
        order = Order(customer=customer, status="pending", hold_reasons=[], total=Decimal("0"),
                      lines=[OrderLine(product_id=product.id, sku=sku, name=product.name, quantity=quantity,
                                       unit_price=product.unit_price, line_total=product.unit_price * quantity)])
        db.session.add(order)
        db.session.flush()
        order.number = f"SO-{order.id:06d}"
        db.session.commit()
        return order
    if status == "on_hold":
        return new_order(sku, quantity, address=None)
    if status == "rejected":
        from webapp.customers.models import Customer

        db.session.add(Customer(name="Blocked Bob", email="bob@example.com", blocked=True))
        db.session.commit()
        return new_order(sku, quantity, name="Blocked Bob", email="bob@example.com")
    order = new_order(sku, quantity)
    assert order.status == "confirmed", order.hold_reasons
    for step in PATHS[status]:
        transition(order, step, actor="test", carrier="DPD", tracking_number="T1")
    db.session.commit()
    return order
