"""A believable demo shop: a ceramics maker with two years of daily history ending today.

The history is simulated in memory (history.py) and written with bulk INSERTs, not order by order through intake:
two years of orders take seconds this way. The rows are those the real code would have written: each product's
counters equal its stock ledger, every status change has its event, totals follow the shop's tax settings. The
demo's made-up customers get no emails, no background job is scheduled and historic orders get no invoices.
"""
import re
from decimal import Decimal

from flask import g
from sqlalchemy import insert, select

from webapp.activity.recording import record_bulk
from webapp.bulk import new_ids
from webapp.catalog.models import Product, StockMovement
from webapp.customers.models import Customer
from webapp.demo_shop.feedback import demo_feedback
from webapp.demo_shop.history import ShopHistory
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.orders.earlier_orders import fill_earlier_orders
from webapp.orders.intake import order_number
from webapp.orders.models import Order, OrderEvent, OrderLine
from webapp.orders.shipping_times import fill_hours_to_ship
from webapp.orders.shop_days import fill_shop_days
from webapp.settings.models import ShopSettings, current_settings
from webapp.timekeeping import shop_zone, utcnow

HISTORY_DAYS = 730
DEFAULT_SEED = 7
ORDER_REF = re.compile(r"\{order:(\d+)\}")
BATCH = 5000


def shop_is_empty() -> bool:
    return (db.session.scalar(select(Product.id).limit(1)) is None
            and db.session.scalar(select(Order.id).limit(1)) is None)


def _demo_settings() -> ShopSettings:
    """Untouched settings get the demo's shop profile (UK VAT included in prices); configured ones are kept."""
    settings = current_settings()
    untouched = settings.shop_name == "My shop" and not settings.tax_rate_percent and not settings.shop_address
    if untouched:
        settings.shop_name = "Hollow Hill Pottery"
        settings.shop_address = "Unit 4, Mill Yard\nStroud GL5 3AB\nUnited Kingdom"
        settings.tax_rate_percent = Decimal("20.00")
        settings.prices_include_tax = True
        settings.invoice_footer = "Handmade in Stroud. Thank you for supporting a small studio."
        db.session.flush()
    return settings


def seed_demo_shop(days: int = HISTORY_DAYS, seed: int = DEFAULT_SEED) -> dict:
    """Create the demo catalogue, customers and ``days`` days of orders up to now, in one transaction."""
    g.suppress_notifications = True  # nothing here sends email, and nothing should start to
    settings = _demo_settings()
    now = utcnow()
    history = ShopHistory(days=days, seed=seed, now=now, zone=shop_zone(), settings=settings).simulate()

    product_ids = new_ids(Product, len(history.products))
    _insert(Product, [{
        "id": product_ids[p.index], "sku": p.spec.sku, "name": p.spec.name, "unit_price": p.spec.price,
        "unit_cost": p.spec.cost, "on_hand": p.on_hand, "reserved": p.reserved, "reorder_point": p.reorder_point,
        "lead_time_days": p.spec.lead_time_days, "supplier_email": p.spec.supplier_email, "active": p.active,
        "created_at": p.created_at, "updated_at": now,
    } for p in history.products])
    customer_ids = new_ids(Customer, len(history.customers))
    _insert(Customer, [{
        "id": customer_ids[c.index], "name": c.identity.name, "email": c.identity.email, "phone": c.identity.phone,
        "address_line1": c.identity.line1, "address_line2": c.identity.line2, "city": c.identity.city,
        "postcode": c.identity.postcode, "country": c.identity.country, "tags": c.tags, "notes": c.notes,
        "blocked": bool(c.block_at and c.block_at <= now), "created_at": c.created_at,
    } for c in history.customers])
    feedback = demo_feedback(history.orders, seed, now)
    rated_at = {o.index: at for o, _, _, at in feedback}  # a rating is the order's latest event
    order_ids = new_ids(Order, len(history.orders))
    # The number comes from the id, as in intake; notes and reasons that name another order need its number too.
    numbers = [order_number(order_id) for order_id in order_ids]

    def with_numbers(text: str) -> str:
        return ORDER_REF.sub(lambda match: numbers[int(match.group(1))], text)

    _insert(Order, [{
        "id": order_ids[o.index], "number": numbers[o.index], "customer_id": customer_ids[o.customer.index],
        "channel": o.channel, "status": o.status, "payment_status": o.payment_status, "priority": o.priority,
        "currency": settings.currency, "subtotal": o.subtotal, "shipping": o.shipping, "tax": o.tax,
        "discount": o.discount, "total": o.total, "due_date": o.due_date, "shipping_method": o.shipping_method,
        "ship_name": o.ship["name"], "ship_line1": o.ship["line1"], "ship_line2": o.ship["line2"],
        "ship_city": o.ship["city"], "ship_postcode": o.ship["postcode"], "ship_country": o.ship["country"],
        "external_ref": o.external_ref, "notes": o.notes,
        "hold_reasons": [with_numbers(reason) for reason in o.hold_reasons], "carrier": o.carrier,
        "tracking_number": o.tracking_number, "created_at": o.created_at,
        "updated_at": rated_at.get(o.index, o.updated_at), "shipped_at": o.shipped_at,
    } for o in history.orders])
    _insert(OrderLine, [{
        "order_id": order_ids[o.index], "product_id": product_ids[line["product"]], "sku": line["sku"],
        "name": line["name"], "quantity": line["quantity"], "unit_price": line["unit_price"],
        "line_total": line["line_total"],
    } for o in history.orders for line in o.lines])
    events = sorted(((e.at, o.index, n, e) for o in history.orders for n, e in enumerate(o.events)),
                    key=lambda row: row[:3])
    _insert(OrderEvent, [{
        "order_id": order_ids[index], "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status,
        "note": with_numbers(e.note), "actor": e.actor, "created_at": at,
    } for at, index, _, e in events])
    _insert(OrderFeedback, [{"order_id": order_ids[o.index], "rating": rating, "comment": comment, "created_at": at,
                             "updated_at": at} for o, rating, comment, at in feedback])
    _insert(OrderEvent, [{
        "order_id": order_ids[o.index], "kind": "feedback", "from_status": None, "to_status": None,
        "note": f"Customer rated {rating}/5" + (f": “{comment}”" if comment else ""), "actor": "customer",
        "created_at": at} for o, rating, comment, at in feedback])
    _insert(StockMovement, [{
        "product_id": product_ids[m.product], "kind": m.kind, "on_hand_delta": m.on_hand_delta,
        "reserved_delta": m.reserved_delta, "reason": m.reason, "actor": "demo seed", "created_at": m.at,
        "order_id": order_ids[m.order.index] if m.order is not None else None,
    } for m in sorted(history.movements, key=lambda m: m.at)])
    fill_shop_days()  # the bulk inserts bypass the ORM events that store them
    fill_earlier_orders()
    fill_hours_to_ship()
    record_bulk(db.session, kind="import", thing_ref="demo shop",  # bulk rows bypass the ORM: one log entry
                note=f"Demo shop: {len(history.products)} products, {len(history.customers)} customers, "
                     f"{len(history.orders)} orders over {days} days.")
    db.session.commit()
    return {"products": len(history.products), "customers": len(history.customers),
            "orders": len(history.orders), "lines": sum(len(o.lines) for o in history.orders), "days": days,
            "ratings": len(feedback)}


def _insert(model, rows: list[dict]) -> None:
    """Plain executemany: sqlite3's executemany, psycopg's pipeline; both far faster than ORM objects."""
    statement = insert(model.__table__)
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start:start + BATCH])
