"""A small, believable demo shop: a ceramics maker's products, regular customers and orders in every status.

Orders go through the real intake, audit and workflow, so the ledger and counters are consistent.
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from flask import g
from sqlalchemy import select

from webapp.catalog.models import Product
from webapp.catalog.stock import receive_stock
from webapp.extensions import db
from webapp.orders.intake import take_order
from webapp.orders.models import Order
from webapp.orders.schemas import OrderIn
from webapp.orders.workflow import set_payment_status, transition
from webapp.timekeeping import utcnow

PRODUCTS = [
    # sku, name, price, cost, stock, reorder point
    ("MUG-BLU", "Blue stoneware mug", "14.00", "4.20", 60, 15),
    ("MUG-GRN", "Green stoneware mug", "14.00", "4.20", 45, 15),
    ("MUG-SPK", "Speckled espresso cup", "11.50", "3.10", 30, 10),
    ("BWL-LRG", "Large serving bowl", "38.00", "11.00", 12, 4),
    ("BWL-CER", "Cereal bowl", "16.50", "4.80", 40, 12),
    ("PLT-DIN", "Dinner plate", "19.00", "5.60", 36, 12),
    ("PLT-SID", "Side plate", "13.00", "3.90", 48, 12),
    ("TPT-6CP", "Six-cup teapot", "54.00", "17.50", 8, 3),
    ("VAS-BUD", "Bud vase", "18.00", "4.50", 25, 6),
    ("PLN-SML", "Small planter with saucer", "22.00", "6.30", 20, 6),
    ("JUG-MLK", "Milk jug", "17.00", "5.10", 3, 5),
    ("GFT-CRD", "Gift card and wrapping", "3.50", "0.60", 200, 40),
]
CUSTOMERS = [
    ("Jane Doe", "jane.doe@example.com", "+44 7700 900101", "12 High Street", "Leeds", "LS1 4AB", "GB"),
    ("Tom Baker", "tom.baker@example.net", "+44 7700 900102", "3 Mill Lane", "York", "YO1 7HH", "GB"),
    ("Amira Khan", "amira.k@example.org", "+44 7700 900103", "48 Park Road", "Manchester", "M14 5QT", "GB"),
    ("Lukas Weber", "lukas.weber@example.de", "+49 151 2345678", "Bergstraße 5", "Berlin", "10115", "DE"),
    ("Sophie Martin", "sophie.martin@example.fr", "+33 6 12 34 56 78", "7 rue des Lilas", "Lyon", "69003", "FR"),
    ("Owen Price", "owen.price@example.co.uk", "+44 7700 900106", "21 Castle View", "Cardiff", "CF10 1AA", "GB"),
    ("Grace Liu", "grace.liu@example.com", "+44 7700 900107", "9 Orchard Close", "Bristol", "BS8 2PQ", "GB"),
    ("Ella Murphy", "ella.murphy@example.ie", "+353 85 123 4567", "14 Harbour Rd", "Cork", "T12 X2Y3", "IE"),
]
CARRIERS = ("Royal Mail", "DPD", "Evri")
ACTOR = "demo seed"


def shop_is_empty() -> bool:
    return (db.session.scalar(select(Product.id).limit(1)) is None
            and db.session.scalar(select(Order.id).limit(1)) is None)


def seed_demo_shop(order_count: int = 40, seed: int = 7) -> dict:
    """Create the demo products, customers and ``order_count`` orders spread over every status.

    The demo's made-up customers get no emails.
    """
    g.suppress_notifications = True
    rng = random.Random(seed)
    products = []
    for sku, name, price, cost, stock, reorder_point in PRODUCTS:
        product = Product(sku=sku, name=name, unit_price=Decimal(price), unit_cost=Decimal(cost),
                          reorder_point=reorder_point, lead_time_days=rng.choice((5, 7, 10, 14)),
                          supplier_email="orders@clay-supplies.example")
        db.session.add(product)
        db.session.flush()
        receive_stock(product, stock, reason="opening stock", actor=ACTOR)
        products.append(product)
    db.session.commit()

    # Later orders stay open so the board has work on it; earlier ones have moved along.
    fates = ["delivered"] * 10 + ["shipped"] * 6 + ["cancelled"] * 2 + ["returned"] + ["processing"] * 6
    for number in range(order_count):
        name, email, phone, street, city, postcode, country = rng.choice(CUSTOMERS)
        lines = [{"sku": product.sku, "quantity": rng.choice((1, 1, 1, 2, 2, 3))}
                 for product in rng.sample(products[:-1], rng.choice((1, 1, 2, 2, 3)))]
        if rng.random() < 0.25:
            lines.append({"sku": "GFT-CRD", "quantity": 1})
        data = OrderIn.model_validate({
            "customer": {"name": name, "email": email, "phone": phone,
                         "address": {"line1": street, "city": city, "postcode": postcode, "country": country}},
            "lines": lines,
            "channel": rng.choice(("web", "web", "api", "paste")),
            "shipping": rng.choice(("3.95", "3.95", "6.50")),
            "shipping_method": rng.choice(("Standard", "Standard", "Express")),
            "due_date": (date.today() + timedelta(days=rng.randint(1, 10))).isoformat(),
        })
        order = take_order(data, actor=ACTOR)
        age = timedelta(hours=(order_count - number) * 7 + rng.randint(0, 5))
        order.created_at = utcnow() - age
        fate = fates[number] if number < len(fates) else rng.choice(("confirmed", "confirmed", "processing", None))
        _move_along(order, fate, rng)
        db.session.commit()
    return {"products": len(products), "customers": len(CUSTOMERS), "orders": order_count}


def _move_along(order: Order, fate: str | None, rng: random.Random) -> None:
    if order.status != "confirmed" or fate in (None, "confirmed"):
        return
    paths = {
        "processing": ["processing"], "shipped": ["processing", "shipped"],
        "delivered": ["processing", "shipped", "delivered"], "cancelled": ["cancelled"],
        "returned": ["shipped", "delivered", "returned"],
    }
    set_payment_status(order, "paid", actor=ACTOR)
    for step in paths[fate]:
        transition(order, step, actor=ACTOR, carrier=rng.choice(CARRIERS),
                   tracking_number=f"TR{rng.randint(10**9, 10**10 - 1)}GB")
    if fate == "shipped":
        order.shipped_at = utcnow() - timedelta(hours=rng.randint(1, 20))
