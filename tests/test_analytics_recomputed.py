"""The dashboard's figures on a generated shop, checked against the same figures worked out the plain way in Python
from every order: across daylight-saving days, after old orders change status, are returned, cancelled or edited,
after bulk writes that bypass the ORM, after the shop's time zone changes, and with today's orders still moving;
each time both before and after the daily rollups of the changed days are stored."""
import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from flask import g
from sqlalchemy import func, insert, select

from tests.factories import new_order
from webapp.analytics import anomalies, kpis
from webapp.analytics.models import SalesDayChanged
from webapp.bulk import new_ids
from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.feedback.models import OrderFeedback
from webapp.orders.earlier_orders import fill_earlier_orders
from webapp.orders.models import NOT_SALES, SHIPPED_OR_LATER, Order
from webapp.orders.shipping_times import fill_hours_to_ship
from webapp.settings.models import current_settings
from webapp.timekeeping import shop_today, shop_zone, utcnow
from worker.jobs.dashboard import store_changed_sales_days

CENT = Decimal("0.01")
STATUSES = ["delivered"] * 6 + ["shipped", "returned", "cancelled", "rejected", "confirmed", "processing",
                                "on_hold", "pending"]
TOWNS = [("Leeds", "GB"), ("leeds ", "GB"), ("York", "GB"), ("Paris", "FR"), ("Cork", "IE"), (None, None)]
# 1 Oct - 15 Nov 2026: summer time ends in London on 25 Oct and in New York on 1 Nov.
FIRST_DAY = datetime(2026, 10, 1)


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _near(fast, exact, places):
    """A rounded figure is the exact one rounded (either way when the exact one sits on the half)."""
    if exact is None:
        return fast is None
    return fast is not None and abs(Fraction(fast) - exact) <= Fraction(1, 2 * 10 ** places) + Fraction(1, 10 ** 9)


def _median(values):
    return statistics.median(values) if values else None


@pytest.fixture
def shop(app, make_product):
    rng = random.Random(6)
    make_product("A", name="Alpha vase", price="10.37", stock=10_000, cost="4.10")
    make_product("B", name="Beta cup", price="4.91", stock=10_000)  # no unit cost
    make_product("C", name="Gamma bowl", price="7.83", stock=10_000, cost="8.05")  # sold at a loss
    customers = [(f"Buyer{n}", TOWNS[n % len(TOWNS)]) for n in range(14)]
    for n in range(160):
        name, (city, country) = rng.choice(customers[:4] * 3 + customers)  # a few buy often
        address = {"line1": "1 Road", "city": city, "postcode": "X1", "country": country} if city else None
        lines = [{"sku": rng.choice("ABC"), "quantity": rng.randint(1, 4)} for _ in range(rng.randint(1, 3))]
        order = new_order(name=name, email=f"{name.lower()}@example.com", address=address, lines=lines,
                          channel=rng.choice(["web", "web", "api", "shopify", "paste"]))
        # Whole minutes, many near midnight, where the shop's day and the UTC day differ.
        minute = rng.choice([rng.randint(0, 1439), rng.randint(1380, 1439), rng.randint(0, 120)])
        order.created_at = FIRST_DAY + timedelta(days=rng.randint(0, 45), minutes=minute)
        order.status = rng.choice(STATUSES)
        order.shipped_at = (order.created_at + timedelta(minutes=rng.randint(30, 6000))
                            if order.status in SHIPPED_OR_LATER else None)
        if rng.random() < 0.2:
            db.session.add(OrderFeedback(order_id=order.id, rating=rng.randint(1, 5)))
        db.session.commit()
    return rng


def recomputed(first: date, last: date) -> dict:
    """Every figure of the summary from the orders themselves, by the definitions of DESIGN.md §6."""
    db.session.expire_all()
    zone = shop_zone()
    orders = db.session.scalars(select(Order)).all()
    costs = {p.id: p.unit_cost for p in db.session.scalars(select(Product))}
    ratings = {f.order_id: f.rating for f in db.session.scalars(select(OrderFeedback))}

    def day(order):
        return order.created_at.replace(tzinfo=UTC).astimezone(zone).date()
    ranged = [o for o in orders if first <= day(o) <= last]
    earning = [o for o in ranged if o.status not in NOT_SALES]
    shipped = [Fraction((o.shipped_at - o.created_at).total_seconds()) / 3600 for o in ranged if o.shipped_at]
    revenue = sum((o.total for o in earning), Decimal(0))
    per_customer = defaultdict(list)
    for o in sorted(earning, key=lambda o: (o.created_at, o.id)):
        per_customer[o.customer_id].append(o)
    earlier_buyers = {o.customer_id for o in orders if day(o) < first and o.status not in NOT_SALES}
    gaps = [Fraction((b.created_at - a.created_at).total_seconds()) / 86400
            for bought in per_customer.values() for a, b in zip(bought, bought[1:])]
    lines = [line for o in earning for line in o.lines]
    costed = _cents(sum((ln.line_total for ln in lines if costs.get(ln.product_id) is not None), Decimal(0)))
    margin = costed - _cents(sum((ln.quantity * costs[ln.product_id] for ln in lines
                                  if costs.get(ln.product_id) is not None), Decimal(0)))
    line_revenue = sum((ln.line_total for ln in lines), Decimal(0))
    rated = [ratings[o.id] for o in ranged if o.id in ratings]

    def ratio(part, whole):
        return round(part / whole, 4) if whole else None
    left_pending = sum(o.status != "pending" for o in ranged)
    figures = {
        "orders": len(ranged), "revenue": _cents(revenue),
        "aov": (_cents(revenue) / len(earning)).quantize(CENT, rounding=ROUND_HALF_UP) if earning else CENT * 0,
        "completion_rate": ratio(sum(o.status == "delivered" for o in ranged), left_pending),
        "cancellation_rate": ratio(sum(o.status == "cancelled" for o in ranged), len(ranged)),
        "return_rate": ratio(sum(o.status == "returned" for o in ranged),
                             sum(o.status in SHIPPED_OR_LATER for o in ranged)),
        "repeat_customer_rate": ratio(sum(len(b) > 1 or c in earlier_buyers for c, b in per_customer.items()),
                                      len(per_customer)),
        "gross_margin": margin, "costed_revenue": costed,
        "margin_rate": round(float(margin / costed), 4) if costed else None,
        "cost_coverage": round(float(costed / _cents(line_revenue)), 4) if lines else None,
        "ratings": len(rated),
    }
    near = {"t_avg_hours": (sum(shipped) / len(shipped) if shipped else None, 2),
            "t_median_hours": (_median(shipped), 2), "days_between_orders": (_median(gaps), 1),
            "average_rating": (Fraction(sum(rated), len(rated)) if rated else None, 2)}

    products = defaultdict(lambda: [None, 0, Decimal(0)])
    for ln in lines:
        entry = products[ln.sku]
        entry[0] = max(entry[0] or "", ln.name)
        entry[1] += ln.quantity
        entry[2] += ln.line_total
    channels = defaultdict(lambda: [0, Decimal(0)])
    for o in ranged:
        channels[o.channel][0] += 1
        channels[o.channel][1] += o.total if o.status not in NOT_SALES else 0
    buyers = [(b[0].customer, len(b), sum((o.total for o in b), Decimal(0))) for b in per_customer.values()]
    countries, towns = defaultdict(lambda: [0, 0, Decimal(0)]), defaultdict(lambda: [None, 0, 0])
    for customer, n, spent in buyers:
        countries[customer.country][0] += 1
        countries[customer.country][1] += n
        countries[customer.country][2] += spent
        town = towns[(customer.city.strip().lower() if customer.city is not None else None, customer.country)]
        town[0] = customer.city if town[0] is None else min(town[0], customer.city)
        town[1] += 1
        town[2] += n
    daily = defaultdict(lambda: [0, Decimal(0)])
    for o in orders:
        daily[day(o)][0] += 1
        daily[day(o)][1] += o.total if o.status not in NOT_SALES else 0
    length = (last - first).days + 1
    breakdowns = {
        "top_products": [{"sku": sku, "name": name, "quantity": units, "revenue": f"{_cents(amount):.2f}"}
                         for sku, (name, units, amount) in sorted(products.items(),
                                                                  key=lambda i: (-i[1][2], i[0]))][:5],
        "channels": [{"channel": c, "orders": n, "revenue": f"{_cents(amount):.2f}", "share": ratio(n, len(ranged))}
                     for c, (n, amount) in sorted(channels.items(), key=lambda i: (-i[1][0], i[0]))],
        "top_customers": [{"name": c.name, "email": c.email, "orders": n, "revenue": f"{_cents(spent):.2f}"}
                          for c, n, spent in sorted(buyers, key=lambda b: (-b[2], -b[1], b[0].name))][:5],
        "countries": [{"country": code or "", "customers": k, "orders": n, "revenue": f"{_cents(spent):.2f}"}
                      for code, (k, n, spent) in sorted(countries.items(),
                                                         key=lambda i: (-i[1][0], i[0] is None, i[0] or ""))][:20],
        "cities": [{"city": (city or "").strip(), "country": code or "", "customers": k, "orders": n}
                   for (town, code), (city, k, n) in sorted(
                       towns.items(), key=lambda i: (-i[1][1], i[0][0] is None, i[0][0] or "", i[0][1] is None,
                                                     i[0][1] or ""))][:10],
        "frequency": [{"orders": label, "customers": sum(low <= len(b) <= (high or len(b))
                                                         for b in per_customer.values())}
                      for label, low, high in kpis.FREQUENCY_BANDS],
        "daily": [(first + timedelta(days=i), *daily[first + timedelta(days=i)],
                   first - timedelta(days=length - i), *daily[first - timedelta(days=length - i)])
                  for i in range(length)],
    }
    unusual = []
    for c, bought in per_customer.items():
        history = [o for o in orders if o.customer_id == c and o.status not in NOT_SALES]
        for o in bought:
            before = [h.total for h in history if (h.created_at, h.id) < (o.created_at, o.id)]
            usual = Fraction(sum(before, Decimal(0))) / len(before) if before else 0
            if len(before) >= anomalies.USUAL_AFTER and usual > 0 and (
                    o.total > usual * anomalies.FACTOR or o.total * anomalies.FACTOR < usual):
                unusual.append((o.created_at, o.number, o.total, _cents(sum(before, Decimal(0)) / len(before)),
                                len(before)))
    return {"figures": figures, "near": near, "breakdowns": breakdowns, "unusual": sorted(unusual)}


def stored_earlier_orders_are_right() -> int:
    """Every order's stored earlier orders (count, total, the latest one's time), where trusted (no order of the
    customer placed at or before it lacks them), are its customer's earlier orders that earn; returns how many
    orders are not trusted."""
    db.session.expire_all()
    orders = sorted(db.session.scalars(select(Order)).all(), key=lambda o: (o.created_at, o.id))
    seen, unknown_since, untrusted = defaultdict(list), {}, 0
    for o in orders:
        if o.earlier_orders is None:
            unknown_since.setdefault(o.customer_id, o.created_at)
        if o.customer_id in unknown_since and o.created_at >= unknown_since[o.customer_id]:
            untrusted += 1
        else:
            earlier = seen[o.customer_id]
            previous_at = earlier[-1][0] if earlier else None
            assert (o.earlier_orders, o.earlier_total, o.previous_order_at) == (
                len(earlier), sum((total for _, total in earlier), Decimal(0)), previous_at), o.number
            assert o.days_since_previous_order == (
                (o.created_at - previous_at).total_seconds() / 86400 if previous_at else None)
        if o.status not in NOT_SALES:
            seen[o.customer_id].append((o.created_at, o.total))
    return untrusted


def check(first: date, last: date):
    """The figures as read now (the days noted as changed since the rollups were stored worked out live, the rest
    read from the rollups), then again once the worker's job has stored every changed day."""
    figures_match(first, last)
    assert store_changed_sales_days() >= 0
    assert db.session.scalar(select(func.count(SalesDayChanged.id))) == 0
    figures_match(first, last)


def figures_match(first: date, last: date):
    expected = recomputed(first, last)
    summary = kpis.summary(first, last)
    for key, value in expected["figures"].items():
        assert summary[key] == value, (key, first, last)
    for key, (exact, places) in expected["near"].items():
        assert _near(summary[key], exact, places), (key, summary[key], exact and float(exact))
    for key, value in expected["breakdowns"].items():
        got = getattr(summary, key)
        if key == "daily":
            got = [(d.day, d.orders, d.revenue, d.previous_day, d.previous_orders, d.previous_revenue) for d in got]
            value = [(a, n, _cents(r), b, m, _cents(s)) for a, n, r, b, m, s in value]
        assert got == value, key
    assert [(o["created_at"], o["number"], o["total"], o["usual"], o["earlier_orders"])
            for o in anomalies.unusual_orders(first, last)] == expected["unusual"]
    db.session.rollback()


RANGES = [(date(2026, 10, 19), date(2026, 11, 1)),  # both London's and New York's clock changes
          (date(2026, 10, 25), date(2026, 10, 25)), (date(2026, 11, 1), date(2026, 11, 1)),  # the change days
          (date(2026, 10, 1), date(2026, 11, 15))]


def test_the_figures_match_a_recomputation_as_the_shop_changes(shop):
    rng = shop
    for first, last in RANGES:
        check(first, last)
    # Orders change after their day closed: returns, cancellations, an edited line, one moved across midnight.
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    for order in rng.sample(orders, 30):
        order.status = {"delivered": "returned", "confirmed": "cancelled", "processing": "shipped"}.get(
            order.status, "delivered")
        if order.status in SHIPPED_OR_LATER and order.shipped_at is None:
            order.shipped_at = order.created_at + timedelta(hours=5)
    edited = orders[3]
    edited.lines[0].quantity += 2
    edited.lines[0].line_total = edited.lines[0].unit_price * edited.lines[0].quantity
    edited.total = sum(line.line_total for line in edited.lines)
    orders[5].created_at = datetime(2026, 10, 24, 23, 30)  # 00:30 BST on the 25th
    orders[6].customer_id = orders[9].customer_id  # an order put on the right customer
    orders[7].total *= 10  # a big order, unusual for its customer now
    db.session.commit()
    for first, last in RANGES:
        check(first, last)
    assert stored_earlier_orders_are_right() == 0

    # Orders written in bulk, bypassing the ORM (as history imports and the demo shop do).
    customer_id = orders[0].customer_id
    ids = new_ids(Order, 3)
    db.session.execute(insert(Order), [
        {"id": i, "number": f"BULK-{i}", "customer_id": customer_id, "channel": "import", "status": "delivered",
         "total": Decimal("99.00"), "hold_reasons": [], "created_at": datetime(2026, 10, 25, 0, 15) + timedelta(days=n),
         "updated_at": datetime(2026, 10, 25), "shipped_at": datetime(2026, 10, 26, 3)} for n, i in enumerate(ids)])
    db.session.commit()
    # Their customer's later orders no longer trust their stored earlier orders: worked out live until filled.
    assert stored_earlier_orders_are_right() > 3
    for first, last in RANGES:
        check(first, last)
    assert fill_earlier_orders() > 3 and fill_hours_to_ship() == 3
    db.session.commit()
    assert stored_earlier_orders_are_right() == 0
    for first, last in RANGES:
        check(first, last)
    assert {"high", "low"} <= {o["direction"] for o in anomalies.unusual_orders(*RANGES[-1])}

    # A new time zone moves the orders placed near midnight to other days.
    settings = current_settings()
    settings.time_zone = "America/New_York"
    db.session.commit()
    g.pop("shop_zone", None)
    assert db.session.scalar(select(Order.shop_day).where(Order.id == orders[5].id)) == date(2026, 10, 24)
    for first, last in RANGES:
        check(first, last)


def test_todays_orders_count_while_they_move(app, make_product):
    make_product("A", price="10.37", stock=100, cost="4.10")
    today = shop_today()
    week = (today - timedelta(days=6), today)
    earlier = new_order("A", 1, name="Ann", email="ann@example.com")
    earlier.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    check(*week)
    fresh = [new_order("A", n, name="Ann", email="ann@example.com") for n in (1, 2)]
    check(*week)
    fresh[0].status = "cancelled"
    fresh[1].status, fresh[1].shipped_at = "shipped", utcnow()
    db.session.commit()
    check(*week)
    assert kpis.summary(*week).daily[-1].orders == 2
