"""Two years of the demo shop's life, simulated in time order without touching the database.

Orders arrive day by day (demand.py), go through the same decisions the real audit makes, and move along the
lifecycle of workflow.TRANSITIONS at plausible times: packed and shipped on working days, express first, big orders
and the Christmas rush slower. Stock is reserved, released, shipped and returned as stock.py would, and the owner
reorders from suppliers before running out. Everything after ``now`` has not happened yet, so the latest orders are
still open. The same ``seed`` and ``now`` give the same history.
"""
import heapq
import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from webapp.demo_shop import demand
from webapp.demo_shop.catalogue import PRODUCTS, DemoProduct
from webapp.demo_shop.people import WHOLESALE, Identity, People
from webapp.orders.intake import EXPRESS_WORDS, tax_on
from webapp.validation import CENT

ACTOR = "demo seed"
CHECKOUT_CHANNELS = ("web", "shopify", "woocommerce", "import")  # paid when the order is placed
CHANNEL_WEIGHTS = {"web": 36, "shopify": 24, "woocommerce": 14, "paste": 10, "import": 9, "api": 7}
RETAIL_CHANNELS = ("web", "shopify", "woocommerce", "paste", "import")  # the API is for trade partners
BANK_HOLIDAYS = ((12, 25), (12, 26), (1, 1))
SHIPPING_FEES = {  # zone: (standard, express)
    "GB": (Decimal("3.95"), Decimal("7.50")),
    "EU": (Decimal("9.50"), Decimal("16.00")),
    "US": (Decimal("14.00"), Decimal("24.00")),
}
FREE_SHIPPING_FROM = Decimal("60.00")  # GB standard
TRANSIT_DAYS = {"GB": (1, 2, 2, 3), "IE": (2, 3, 4), "EU": (3, 4, 5, 6), "US": (5, 7, 9, 12)}
GIVE_UP_AFTER = timedelta(days=10)  # a customer waiting for stock cancels after this long
SECOND = timedelta(seconds=1)
# When orders come in, by local hour: lunch breaks and evenings on the sofa.
ORDER_HOURS = (1, .5, .3, .2, .2, .4, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 4.5, 5, 5.5, 6.5, 7, 6.5, 4.5, 2.5)


@dataclass
class SimCustomer:
    index: int
    identity: Identity
    created_at: datetime
    kind: str  # one_off, occasional, regular, loyal, wholesale
    channel: str
    lapse_at: datetime | None = None
    block_at: datetime | None = None
    tags: str = ""
    notes: str = ""


@dataclass
class SimProduct:
    index: int
    spec: DemoProduct
    created_at: datetime
    on_sale_from: date | None
    on_sale_until: date | None
    on_hand: int = 0
    reserved: int = 0
    incoming: int = 0
    active: bool = True
    reorder_point: int = 0
    waiting: list = field(default_factory=list)  # orders on hold for this product's stock

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class SimEvent:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str
    actor: str


@dataclass
class SimOrder:
    index: int
    customer: SimCustomer
    channel: str
    created_at: datetime
    priority: str
    due_date: date | None
    shipping_method: str
    ship: dict  # name, line1, line2, city, postcode, country
    address: dict  # the customer's, for when a missing shipping address arrives
    lines: list[dict]
    subtotal: Decimal
    shipping: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    notes: str = ""
    external_ref: str | None = None
    status: str = "pending"
    payment_status: str = "unpaid"
    hold_reasons: list = field(default_factory=list)
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    events: list[SimEvent] = field(default_factory=list)
    plan: dict = field(default_factory=dict)  # what will happen to it: cancel, return, held address ...

    @property
    def updated_at(self) -> datetime:
        return self.events[-1].at

    def units(self) -> Counter:
        wanted: Counter = Counter()
        for line in self.lines:
            wanted[line["product"]] += line["quantity"]
        return wanted


@dataclass
class SimMovement:
    at: datetime
    product: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    order: SimOrder | None


class ShopHistory:
    """Run with ``simulate()``; then read ``products``, ``customers``, ``orders`` and ``movements``."""

    def __init__(self, *, days: int, seed: int, now: datetime, zone: ZoneInfo, settings):
        if days < 14:
            raise ValueError("The demo history needs at least 14 days.")
        self.rng = random.Random(seed)
        self.now = now
        self.zone = zone
        self.settings = settings
        self.today = self.local(now).date()
        self.start = self.today - timedelta(days=days - 1)
        self.people = People(self.rng)
        self.customers: list[SimCustomer] = []
        self.orders: list[SimOrder] = []
        self.movements: list[SimMovement] = []
        self._tickets: list[SimCustomer] = []  # repeat buyers, each as often as they are likely to come back
        self._queue: list = []
        self._sequence = itertools.count()
        self._refs = Counter()
        self._po_numbers = Counter()
        self.products = [self._product(i, spec) for i, spec in enumerate(PRODUCTS)]
        self._expected = self._expected_units()
        self._wholesale: list[SimCustomer] = []

    # ---- time --------------------------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def at(self, day: date, from_hour: float, to_hour: float) -> datetime:
        """A random moment on ``day`` between two local hours, as naive UTC."""
        minutes = self.rng.uniform(from_hour * 60, to_hour * 60)
        local = datetime.combine(day, time()) + timedelta(minutes=minutes)
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    @staticmethod
    def is_workday(day: date) -> bool:
        return day.weekday() < 5 and (day.month, day.day) not in BANK_HOLIDAYS

    def next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def previous_workday(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def owner_looks(self, moment: datetime) -> datetime:
        """When the owner next looks at the board: soon in working hours, else the next working morning."""
        local = self.local(moment)
        if self.is_workday(local.date()) and 8 <= local.hour < 17:
            return moment + timedelta(minutes=self.rng.uniform(20, 240))
        day = local.date() if self.is_workday(local.date()) and local.hour < 8 else self.next_workday(local.date())
        return self.at(day, 8.5, 11)

    # ---- the event queue ---------------------------------------------------------------------------------
    def schedule(self, moment: datetime, action: str, *args) -> None:
        heapq.heappush(self._queue, (moment, next(self._sequence), action, args))

    def simulate(self) -> "ShopHistory":
        for product in self.products:
            self._open_product(product)
        for n, (name, country, city, channel) in enumerate(WHOLESALE):
            joins = self.start + timedelta(days=int((self.today - self.start).days * n / len(WHOLESALE)))
            self.schedule(self.at(joins, 9, 12), "join_wholesale", name, country, city, channel)
        day = self.start
        while day <= self.today:
            for _ in range(demand.orders_on(self.rng, day, self.today)):
                hour = self.rng.choices(range(24), weights=ORDER_HOURS)[0]
                self.schedule(self.at(day, hour, hour + 1), "arrive", {})
            day += timedelta(days=1)
        self._schedule_board_scenes()
        while self._queue and self._queue[0][0] <= self.now:
            moment, _, action, args = heapq.heappop(self._queue)
            getattr(self, f"_on_{action}")(moment, *args)
        return self

    # ---- products and stock ------------------------------------------------------------------------------
    def _product(self, index: int, spec: DemoProduct) -> SimProduct:
        from_day = self.today - timedelta(days=spec.launched_days_ago) if spec.launched_days_ago else None
        until = self.today - timedelta(days=spec.discontinued_days_ago) if spec.discontinued_days_ago else None
        created = from_day if from_day and from_day > self.start else self.start - timedelta(days=1)
        return SimProduct(index, spec, self.at(created, 8, 9), from_day, until)

    def on_sale(self, product: SimProduct, day: date) -> bool:
        return ((product.on_sale_from is None or day >= product.on_sale_from)
                and (product.on_sale_until is None or day < product.on_sale_until))

    def weight(self, product: SimProduct, day: date) -> float:
        """How likely the product is picked for an order on ``day``."""
        if product.spec.add_on or not self.on_sale(product, day):
            return 0.0
        weight = product.spec.share * demand.product_season(product.spec.season, day)
        if product.on_sale_from:
            since = (day - product.on_sale_from).days
            weight *= 1.6 if since < 10 else min(1.0, 0.6 + since / 60)  # launch interest, then a ramp
        return weight

    def _expected_units(self) -> list[list[float]]:
        """Mean units per day per product, from the demand model, for the owner's reorder decisions."""
        horizon = (self.today - self.start).days + 121
        days = [self.start + timedelta(days=n) for n in range(horizon)]
        expected = [[0.0] * horizon for _ in self.products]
        for n, day in enumerate(days):
            weights = [self.weight(p, day) for p in self.products]
            total = sum(weights) or 1
            orders = demand.expected_orders(day, self.today)
            for product, weight in zip(self.products, weights):
                mean_quantity = sum(product.spec.quantities) / len(product.spec.quantities)
                if product.spec.add_on:
                    expected[product.index][n] = orders * self._gift_share(day) * 1.1
                else:
                    expected[product.index][n] = orders * 1.75 * weight / total * mean_quantity
        return expected

    def expected_demand(self, product: SimProduct, first: date, days: int) -> float:
        offset = (first - self.start).days
        return sum(self._expected[product.index][max(0, offset):max(0, offset + days)])

    @staticmethod
    def _gift_share(day: date) -> float:
        return 0.4 if day.month in (11, 12) else 0.12

    def move_stock(self, moment, product: SimProduct, kind: str, on_hand: int, reserved: int, reason: str,
                   order: SimOrder | None = None) -> None:
        product.on_hand += on_hand
        product.reserved += reserved
        assert product.on_hand >= product.reserved >= 0, product.spec.sku
        self.movements.append(SimMovement(moment, product.index, kind, on_hand, reserved, reason, order))

    def _open_product(self, product: SimProduct) -> None:
        first_day = self.local(product.created_at).date()
        if product.on_sale_until and product.on_sale_until <= first_day:
            product.active = False
            return
        quantity = max(6, math.ceil(self.expected_demand(product, first_day, 60)))
        reason = "first kiln batch" if product.on_sale_from and product.on_sale_from > self.start else "opening stock"
        self.move_stock(product.created_at, product, "receive", quantity, 0, reason)
        if product.on_sale_until:
            self.schedule(self.at(product.on_sale_until, 9, 10), "discontinue", product)
        product.reorder_point = self._reorder_point(product, self.today)

    def _reorder_point(self, product: SimProduct, day: date) -> int:
        """Enough for the supplier's lead time and a week's margin, at the season's pace."""
        if product.spec.add_on:
            return max(10, math.ceil(self.expected_demand(product, day, product.spec.lead_time_days + 7)))
        return max(2, math.ceil(self.expected_demand(product, day, product.spec.lead_time_days + 7) * 1.2))

    def check_reorder(self, moment: datetime, product: SimProduct) -> None:
        day = self.local(moment).date()
        if product.incoming or not self.on_sale(product, day):
            return
        if product.on_sale_until and (product.on_sale_until - day).days < 70:
            return  # being phased out: sell what is left
        if product.available > self._reorder_point(product, day):
            return
        arrives = day + timedelta(days=product.spec.lead_time_days)
        quantity = max(6, math.ceil(self.expected_demand(product, arrives, 50) / 6) * 6)  # kiln batches of six
        product.incoming = quantity
        when = self.at(arrives if self.is_workday(arrives) else self.next_workday(arrives), 10, 15)
        if product.spec.late_supplier and (self.today - day).days < 45:
            when = self.now + timedelta(days=5)  # the supplier is late: not here yet
        self._po_numbers[day.year] += 1
        purchase = f"PO-{day.year}-{self._po_numbers[day.year]:03d}"
        self.schedule(when, "receive", product, quantity, purchase)

    def _on_receive(self, moment, product: SimProduct, quantity: int, purchase: str) -> None:
        product.incoming = 0
        supplier = product.spec.supplier_email.split("@")[1].split(".")[0].replace("-", " ").title()
        self.move_stock(moment, product, "receive", quantity, 0, f"Delivery from {supplier} ({purchase})")
        for order in product.waiting:
            self.schedule(moment + timedelta(minutes=self.rng.uniform(60, 240)), "resolve_hold", order)
        product.waiting = []

    def _on_discontinue(self, moment, product: SimProduct) -> None:
        product.active = False
        self.sell_off_if_discontinued(moment, product)

    def sell_off_if_discontinued(self, moment, product: SimProduct) -> None:
        """A discontinued product's free units go to the studio seconds sale: those left when it is discontinued,
        and any that come back later (a cancelled order's reservation, a restocked return), so it ends at none."""
        if not product.active and product.available > 0:
            self.move_stock(moment, product, "adjust", -product.available, 0,
                            "Discontinued: the last units went to the studio seconds sale")

    # ---- customers ---------------------------------------------------------------------------------------
    def _on_join_wholesale(self, moment, name, country, city, channel) -> None:
        customer = SimCustomer(len(self.customers), self.people.business(name, country, city), moment,
                               "wholesale", channel, tags="wholesale",
                               notes="Trade account: pays by bank transfer on dispatch.")
        self.customers.append(customer)
        self._wholesale.append(customer)

    def new_customer(self, moment: datetime) -> SimCustomer:
        rng = self.rng
        kind = rng.choices(("one_off", "occasional", "regular", "loyal"), weights=(58, 29, 10, 3))[0]
        channel = rng.choices(RETAIL_CHANNELS, weights=[CHANNEL_WEIGHTS[c] for c in RETAIL_CHANNELS])[0]
        customer = SimCustomer(len(self.customers), self.people.person(), moment - timedelta(
            minutes=rng.uniform(0, 5)), kind, channel)
        span = self.now - datetime.combine(self.start, time())
        elapsed = moment - datetime.combine(self.start, time())
        if kind != "one_off" and elapsed < span * 0.35 and rng.random() < 0.35:
            # Bought regularly in the first year, then stopped: lapsed.
            first = max(moment + timedelta(days=45), datetime.combine(self.start, time()) + span * 0.25)
            customer.lapse_at = first + (span * 0.5 - (first - datetime.combine(self.start, time()))) * rng.random()
        if len(self.customers) in (40, 220, 520):
            customer.kind = "regular"
            customer.block_at = moment + timedelta(days=rng.randint(60, 120))
            customer.lapse_at = None
            customer.notes = "Two chargebacks after delivery; blocked. Do not ship without prepayment."
        if channel == "import":
            customer.tags = "market"
        self.customers.append(customer)
        self._tickets.extend([customer] * {"one_off": 0, "occasional": 1, "regular": 4, "loyal": 10}[customer.kind])
        return customer

    def choose_customer(self, moment: datetime) -> SimCustomer:
        rng = self.rng
        if self._wholesale and rng.random() < 0.012:
            return rng.choice(self._wholesale)
        if rng.random() < max(0.16, 1 - len(self._tickets) / 160):
            return self.new_customer(moment)
        while self._tickets:
            n = rng.randrange(len(self._tickets))
            customer = self._tickets[n]
            if customer.lapse_at is None or customer.lapse_at > moment:
                if customer.block_at and customer.block_at < moment and rng.random() < 0.85:
                    continue  # once blocked, they try less often
                return customer
            self._tickets[n] = self._tickets[-1]
            self._tickets.pop()
        return self.new_customer(moment)

    # ---- orders come in ----------------------------------------------------------------------------------
    def _choose_lines(self, moment: datetime, wholesale: bool) -> list[dict]:
        rng = self.rng
        day = self.local(moment).date()
        weights = []
        for product in self.products:
            weight = self.weight(product, day)
            if product.available <= 0:
                weight *= 0.15  # shown as sold out; a few still come through channels that do not sync stock
            weights.append(weight)
        count = rng.randint(3, 6) if wholesale else rng.choices((1, 2, 3, 4, 5), weights=(52, 28, 13, 5, 2))[0]
        chosen: list[SimProduct] = []
        for _ in range(count * 3):
            product = rng.choices(self.products, weights=weights)[0]
            if product not in chosen:
                chosen.append(product)
            if len(chosen) == count:
                break
        lines = []
        for product in chosen:
            quantity = rng.choice(product.spec.quantities)
            if wholesale:
                quantity = rng.choice((2, 3, 4)) if product.spec.price >= 38 else rng.choice((6, 12, 12, 18, 24))
            lines.append(self._line(product, quantity, product.spec.price))
        gift = self.products[-1]
        if not wholesale and self.on_sale(gift, day) and rng.random() < self._gift_share(day):
            lines.append(self._line(gift, 2 if rng.random() < 0.1 else 1, gift.spec.price))
        return lines

    def _scene_lines(self, scene: dict) -> list[dict] | None:
        """Lines for the board's set scenes: a trade order above the review threshold, or one item in stock."""
        if scene.get("wholesale"):
            by_sku = {p.spec.sku: p for p in self.products}
            return [self._line(by_sku[sku], quantity, by_sku[sku].spec.price)
                    for sku, quantity in (("MUG-BLU", 36), ("PLT-DIN", 24), ("BWL-CER", 12))]
        if scene.get("stuck") or scene.get("packing"):
            day = self.local(self.now).date()
            product = max((p for p in self.products if self.weight(p, day) > 0), key=lambda p: p.available)
            return [self._line(product, 1, product.spec.price)]
        return None

    @staticmethod
    def _line(product: SimProduct, quantity: int, price: Decimal) -> dict:
        return {"product": product.index, "sku": product.spec.sku, "name": product.spec.name,
                "quantity": quantity, "unit_price": price, "line_total": (price * quantity).quantize(CENT)}

    def _external_ref(self, channel: str) -> str | None:
        self._refs[channel] += 1
        n = self._refs[channel]
        return {"shopify": f"#{1000 + n}", "woocommerce": f"WC-{4000 + n}", "import": f"ETSY-{2600000 + n * 7}",
                "api": f"TRADE-{300 + n}"}.get(channel)

    def _on_arrive(self, moment: datetime, scene: dict) -> None:
        rng = self.rng
        customer = scene.get("customer") or self.choose_customer(moment)
        wholesale = customer.kind == "wholesale"
        if scene.get("wholesale") and not wholesale:
            customer = self._wholesale[0] if self._wholesale else customer
            wholesale = customer.kind == "wholesale"
        if not wholesale and rng.random() < 0.15:  # most people come back the way they came first
            channel = rng.choices(RETAIL_CHANNELS, weights=[CHANNEL_WEIGHTS[c] for c in RETAIL_CHANNELS])[0]
        else:
            channel = customer.channel
        channel = scene.get("channel", channel)
        lines = scene.get("lines") or self._scene_lines(scene) or self._choose_lines(moment, wholesale)
        day = self.local(moment).date()
        identity = customer.identity
        zone = "GB" if identity.country == "GB" else "US" if identity.country == "US" else "EU"

        express_share = 0.22 if day.month in (11, 12) else 0.1
        method = "Express" if rng.random() < express_share and not wholesale else "Standard"
        if zone != "GB":
            method = f"International {method.lower()}" if method == "Express" else "International"
        due = None
        if "xpress" in method:
            due = day + timedelta(days=rng.choice((1, 2)))
        elif wholesale:
            due = day + timedelta(days=rng.randint(10, 21))
        elif channel in ("shopify", "woocommerce", "web") and rng.random() < 0.25:
            due = day + timedelta(days=rng.randint(3, 12))
        due = scene.get("due_date", due)
        express = any(word in method.lower() for word in EXPRESS_WORDS) or (
            due is not None and due <= day + timedelta(days=self.settings.express_window_days))

        price_off = scene.get("price_off") or (channel in ("shopify", "woocommerce") and rng.random() < 0.01)
        if price_off and not scene.get("lines"):
            first = lines[0]
            sale = (first["unit_price"] * Decimal("0.8")).quantize(CENT)
            lines[0] = {**first, "unit_price": sale, "line_total": (sale * first["quantity"]).quantize(CENT)}
        subtotal = sum((line["line_total"] for line in lines), Decimal("0.00"))
        standard_fee, express_fee = SHIPPING_FEES[zone]
        shipping = express_fee if express and "xpress" in method else standard_fee
        if wholesale:
            shipping = Decimal("12.00")
        elif zone == "GB" and not express and subtotal >= FREE_SHIPPING_FROM:
            shipping = Decimal("0.00")
        discount, notes = Decimal("0.00"), ""
        if channel in ("web", "shopify", "woocommerce") and rng.random() < 0.07:
            code = "WELCOME10" if customer.created_at > moment - timedelta(minutes=10) else "KILN10"
            discount = (subtotal * Decimal("0.10")).quantize(CENT)
            notes = f"Discount code {code}."
        if rng.random() < 0.04 and not wholesale:
            notes = " ".join(filter(None, [notes, rng.choice((
                "Please leave with a neighbour if out.", "It's a birthday present, no prices inside please.",
                "Could you add a note: 'Happy housewarming!'", "Leave in the porch, thank you."))]))
        tax = tax_on(subtotal + shipping - discount, self.settings)
        total = subtotal + shipping - discount + (Decimal("0.00") if self.settings.prices_include_tax else tax)

        missing_address = scene.get("missing_address") or (channel == "paste" and rng.random() < 0.08)
        ship = {"name": identity.name, "line1": identity.line1, "line2": identity.line2, "city": identity.city,
                "postcode": identity.postcode, "country": identity.country}
        order = SimOrder(
            index=len(self.orders), customer=customer, channel=channel, created_at=moment,
            priority="express" if express else "standard", due_date=due, shipping_method=method,
            ship={**ship, "line1": None, "line2": None} if missing_address else ship, address=ship, lines=lines,
            subtotal=subtotal, shipping=shipping, discount=discount, tax=tax, total=total, notes=notes,
            external_ref=self._external_ref(channel), plan=dict(scene),
        )
        self.orders.append(order)
        self.event(order, moment, "created", None, "pending", f"Received via {channel}.")
        if scene.get("pending"):
            return
        self.audit(order, moment + SECOND, missing_address=missing_address, price_off=price_off)
        if not scene and channel in ("web", "shopify") and rng.random() < 0.006:
            # The customer pressed "buy" twice.
            self.schedule(moment + timedelta(minutes=rng.uniform(2, 20)), "arrive",
                          {"customer": customer, "channel": channel, "lines": [dict(line) for line in lines],
                           "duplicate_of": order})

    def event(self, order: SimOrder, moment: datetime, kind: str, from_status, to_status, note: str = "",
              actor: str = ACTOR) -> None:
        moment = max(moment, order.events[-1].at + SECOND) if order.events else moment
        if kind == "payment" and moment > self.now:
            return  # a payment that follows its order a little later, due after now: it has not happened yet
        order.events.append(SimEvent(moment, kind, from_status, to_status, note, actor))
        if kind == "status":
            order.status = to_status
        elif kind == "payment":
            order.payment_status = to_status

    def audit(self, order: SimOrder, moment: datetime, *, missing_address: bool, price_off: bool) -> None:
        """The decisions of orders.audit on the demo's made-up orders, with the same reasons."""
        settings = self.settings
        customer = order.customer
        if customer.block_at and customer.block_at <= moment:
            reason = f"Customer {customer.identity.name} is blocked."
            order.hold_reasons = [reason]
            self.event(order, moment, "status", "pending", "rejected", reason, actor="audit")
            return
        reasons = []
        if price_off:
            line = order.lines[0]
            catalogue = self.products[line["product"]].spec.price
            reasons.append(f"Price of {line['sku']} is {line['unit_price']:.2f}, 20% below the catalogue price "
                           f"{catalogue:.2f}.")
        short = []
        for index, quantity in sorted(order.units().items()):
            product = self.products[index]
            if product.available < quantity:
                short.append(product)
                reasons.append(f"Not enough stock of {product.spec.sku}: {quantity} ordered, "
                               f"{max(product.available, 0)} available.")
        if order.total > settings.review_total_threshold:
            reasons.append(f"Total {order.total:.2f} is above the review threshold "
                           f"{settings.review_total_threshold:.2f}.")
        if missing_address:
            reasons.append("Shipping address is missing (street, city and country are needed).")
        duplicate = order.plan.get("duplicate_of")
        if duplicate is not None:
            reasons.append(f"Looks like a duplicate of {order_ref(duplicate)}: same customer and items "
                           f"within {settings.duplicate_window_minutes} minutes.")
        if not reasons:
            self.confirm(order, moment, actor="audit")
            self.take_payment_at_checkout(order, moment)
            return
        order.hold_reasons = reasons
        self.event(order, moment, "status", "pending", "on_hold", " ".join(reasons), actor="audit")
        self.take_payment_at_checkout(order, moment)
        if order.plan.get("stays_on_hold"):
            return
        if short and not (price_off or missing_address or duplicate or order.total > settings.review_total_threshold):
            self.wait_for_stock(order, moment, short)
            return
        later = self.owner_looks(moment)
        if missing_address:
            later += timedelta(hours=self.rng.uniform(2, 40))  # waiting for the customer's reply
        self.schedule(later, "resolve_hold", order)

    def take_payment_at_checkout(self, order: SimOrder, moment: datetime) -> None:
        if order.channel in CHECKOUT_CHANNELS and order.status != "rejected":
            self.event(order, moment + timedelta(seconds=self.rng.uniform(5, 90)), "payment", "unpaid", "paid",
                       "Paid at checkout.")

    def wait_for_stock(self, order: SimOrder, moment: datetime, short: list[SimProduct]) -> None:
        for product in short:
            product.waiting.append(order)
            self.check_reorder(moment, product)
        self.schedule(moment + GIVE_UP_AFTER, "give_up", order)

    # ---- the lifecycle -----------------------------------------------------------------------------------
    def confirm(self, order: SimOrder, moment: datetime, *, actor: str = ACTOR, note: str = "") -> bool:
        """Reserve every line, all or nothing, as workflow.reserve_order_stock does."""
        wanted = sorted(order.units().items())
        short = [self.products[i] for i, quantity in wanted if self.products[i].available < quantity]
        if short:
            return False
        for index, quantity in wanted:
            product = self.products[index]
            self.move_stock(moment, product, "reserve", 0, quantity, "order confirmed", order)
        from_status = order.status
        order.hold_reasons = []
        self.event(order, moment, "status", from_status, "confirmed", note, actor=actor)
        for index, _ in wanted:
            self.check_reorder(moment, self.products[index])
        self.plan_shipping(order, order.events[-1].at)
        return True

    def _on_resolve_hold(self, moment, order: SimOrder) -> None:
        if order.status != "on_hold":
            return
        duplicate = order.plan.get("duplicate_of")
        if duplicate is not None:
            self.cancel(order, moment, f"Duplicate of {order_ref(duplicate)}; the customer wanted one order.")
            return
        reasons = " ".join(order.hold_reasons)
        note = ("Stock arrived." if reasons.startswith("Not enough stock") else
                "The sale price was right; the catalogue had not caught up." if reasons.startswith("Price of") else
                "Checked with the customer.")
        if order.plan.get("missing_address") or order.ship["line1"] is None:
            order.ship = dict(order.address)
            note = "Address received from the customer by email."
        if self.confirm(order, moment, note=note):
            return
        short = [self.products[i] for i, q in order.units().items() if self.products[i].available < q]
        self.wait_for_stock(order, moment, short)

    def _on_give_up(self, moment, order: SimOrder) -> None:
        if order.status == "on_hold":
            self.cancel(order, moment, "The customer did not want to wait for stock.")

    def cancel(self, order: SimOrder, moment: datetime, note: str) -> None:
        if order.status in ("confirmed", "processing"):
            for index, quantity in order.units().items():
                self.move_stock(moment, self.products[index], "release", 0, -quantity, "order cancelled", order)
                self.sell_off_if_discontinued(moment, self.products[index])
        self.event(order, moment, "status", order.status, "cancelled", note)
        if order.payment_status == "paid":
            self.event(order, moment + timedelta(minutes=self.rng.uniform(1, 30)), "payment", "paid", "refunded",
                       "Refunded in full.")

    def plan_shipping(self, order: SimOrder, confirmed: datetime) -> None:
        """Pack and ship on working days: express the same day when in before 1 pm, standard within a few days,
        big orders and the Christmas rush slower. Sometimes packed the afternoon before collection."""
        rng = self.rng
        local = self.local(confirmed)
        day = local.date()
        items = sum(line["quantity"] for line in order.lines)
        if order.priority == "express":
            ship_day = day if self.is_workday(day) and local.hour < 13 else self.next_workday(day)
            ship_at = self.at(ship_day, 12, 16.5)
        else:
            ship_day = day if self.is_workday(day) and local.hour < 12 else self.next_workday(day)
            lag = rng.choices((0, 1, 2, 3), weights=(35, 40, 17, 8))[0]
            lag += (items >= 8 or len(order.lines) >= 4) + (order.customer.kind == "wholesale")
            rush = (day.month == 11 and day.day >= 20) or (day.month == 12 and day.day <= 20)
            lag += rush and rng.random() < 0.5
            for _ in range(lag):
                ship_day = self.next_workday(ship_day)
            ship_at = self.at(ship_day, 10, 16.5)
        if ship_at < confirmed + timedelta(minutes=30):
            ship_day = self.next_workday(self.local(confirmed).date())
            ship_at = self.at(ship_day, 10, 16.5)
        pack_at = ship_at - timedelta(minutes=rng.uniform(20, 150))
        evening_before = self.at(self.previous_workday(ship_day), 15, 17.5)
        if order.priority == "standard" and rng.random() < 0.35 and evening_before > confirmed:
            pack_at = evening_before
        if order.plan.get("stuck"):
            pack_at = ship_at = self.now + timedelta(days=3)
            self.schedule(self.owner_looks(confirmed + timedelta(hours=20)), "note", order,
                          "Waiting for the glaze firing; the customer knows it will be a few days late.")
        if order.plan.get("packing"):
            pack_at, ship_at = order.plan["packing"], self.now + timedelta(days=1)
        pack_at = max(pack_at, confirmed + timedelta(minutes=5))
        if rng.random() < 0.025 and not order.plan:
            cancel_at = confirmed + timedelta(hours=rng.uniform(0.3, 30))
            if cancel_at < pack_at:
                self.schedule(cancel_at, "customer_cancels", order)
        self.schedule(pack_at, "pack", order, ship_at)

    def _on_note(self, moment, order: SimOrder, text: str) -> None:
        self.event(order, moment, "note", None, None, text)

    def _on_customer_cancels(self, moment, order: SimOrder) -> None:
        if order.status == "confirmed":
            self.cancel(order, moment, self.rng.choice((
                "The customer asked to cancel.", "Ordered the wrong colour; will reorder.",
                "The customer found it locally and asked to cancel.")))

    def _on_pack(self, moment, order: SimOrder, ship_at: datetime) -> None:
        if order.status != "confirmed":
            return
        self.event(order, moment, "status", "confirmed", "processing")
        self.schedule(max(ship_at, moment + timedelta(minutes=10)), "ship", order)

    def _carrier(self, order: SimOrder) -> tuple[str, str]:
        rng = self.rng
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        royal_mail = f"{letters}{rng.randint(10**8, 10**9 - 1)}GB"
        if order.ship["country"] != "GB":
            if order.priority == "express":
                return "DHL Express", str(rng.randint(10**9, 10**10 - 1))
            return "Royal Mail", royal_mail
        if order.customer.kind == "wholesale" or sum(line["quantity"] for line in order.lines) >= 8:
            return "DPD", str(rng.randint(10**13, 10**14 - 1))
        carrier = rng.choices(("Royal Mail", "Evri", "DPD"), weights=(60, 25, 15))[0]
        if carrier == "Evri":
            return carrier, f"H0{rng.randint(10**13, 10**14 - 1)}"
        if carrier == "DPD":
            return carrier, str(rng.randint(10**13, 10**14 - 1))
        return carrier, royal_mail

    def _on_ship(self, moment, order: SimOrder) -> None:
        if order.status != "processing":
            return
        for index, quantity in order.units().items():
            self.move_stock(moment, self.products[index], "ship", -quantity, -quantity, "order shipped", order)
        order.carrier, order.tracking_number = self._carrier(order)
        self.event(order, moment, "status", "processing", "shipped", f"{order.carrier} {order.tracking_number}")
        order.shipped_at = order.events[-1].at
        if order.payment_status == "unpaid":
            # Phone and trade orders are paid by the time they are delivered (delivery takes 12 hours at least).
            self.schedule(moment + timedelta(hours=self.rng.uniform(0.5, 10)), "payment", order)
        country = order.ship["country"]
        zone = country if country in ("GB", "IE", "US") else "EU"
        transit = self.rng.choice(TRANSIT_DAYS[zone])
        if order.priority == "express":
            transit = max(1, transit // 2)
        day = self.local(moment).date() + timedelta(days=transit)
        while day.weekday() == 6 or (day.month, day.day) in BANK_HOLIDAYS:
            day += timedelta(days=1)
        self.schedule(max(self.at(day, 9, 18), moment + timedelta(hours=12)), "deliver", order)

    def _on_payment(self, moment, order: SimOrder) -> None:
        if order.payment_status == "unpaid":
            how = "Paid by bank transfer." if order.customer.kind == "wholesale" else "Paid by card over the phone."
            self.event(order, moment, "payment", "unpaid", "paid", how)

    def _on_deliver(self, moment, order: SimOrder) -> None:
        if order.status != "shipped":
            return
        self.event(order, moment, "status", "shipped", "delivered", "Delivered (carrier tracking).")
        roll = self.rng.random()
        if roll < 0.025:
            self.schedule(self.owner_looks(moment + timedelta(days=self.rng.uniform(5, 25))), "return", order)
        elif roll < 0.035:
            self.schedule(self.owner_looks(moment + timedelta(days=self.rng.uniform(1, 4))), "partial_refund", order)

    def _on_partial_refund(self, moment, order: SimOrder) -> None:
        if order.payment_status != "paid":
            return
        line = order.lines[0]
        self.event(order, moment, "payment", "paid", "partially_refunded",
                   f"{line['unit_price']:.2f} GBP refunded. One {line['name'].lower()} arrived chipped.")

    def _on_return(self, moment, order: SimOrder) -> None:
        if order.status != "delivered":
            return
        restock = self.rng.random() < 0.8
        if restock:
            for index, quantity in order.units().items():
                self.move_stock(moment, self.products[index], "return", quantity, 0, "order returned", order)
                self.sell_off_if_discontinued(moment, self.products[index])
            note = "restocked " + self.rng.choice(("Did not suit the kitchen.", "Changed their mind.",
                                                   "Colour not as expected."))
        else:
            note = "not restocked Arrived broken; photos on file."
        self.event(order, moment, "status", "delivered", "returned", note)
        if order.payment_status in ("paid", "partially_refunded"):
            note = "Refunded in full." if order.payment_status == "paid" else "Refunded the rest."
            self.event(order, moment + SECOND, "payment", order.payment_status, "refunded", note)

    # ---- the board today ---------------------------------------------------------------------------------
    def _schedule_board_scenes(self) -> None:
        """A few orders whose state today is set on purpose, so that every column and alert has an example."""
        now, today = self.now, self.today
        self.schedule(now - timedelta(minutes=26), "arrive", {"pending": True, "channel": "import"})
        self.schedule(now - timedelta(minutes=9), "arrive", {"pending": True, "channel": "api"})
        self.schedule(now - timedelta(hours=27), "arrive", {"stays_on_hold": True, "missing_address": True,
                                                            "channel": "paste"})
        self.schedule(now - timedelta(hours=3), "arrive", {"stays_on_hold": True, "price_off": True,
                                                           "channel": "shopify"})
        five_days_ago = now - timedelta(days=5)
        self.schedule(five_days_ago, "arrive", {"stays_on_hold": True, "wholesale": True,
                                                "due_date": self.local(five_days_ago).date() + timedelta(days=4)})
        four_days_ago = now - timedelta(days=4, hours=2)
        self.schedule(four_days_ago, "arrive", {"stuck": True, "channel": "web",
                                                "due_date": self.local(four_days_ago).date() + timedelta(days=2)})
        last_work = today if self.is_workday(today) and self.local(now).hour >= 17 else self.previous_workday(today)
        packed = self.at(last_work, 15.5, 16.5)
        self.schedule(packed - timedelta(hours=5), "arrive", {"packing": packed, "channel": "woocommerce"})
        self.schedule(now - timedelta(days=2, hours=3), "blocked_customer_tries")

    def _on_blocked_customer_tries(self, moment) -> None:
        blocked = [c for c in self.customers if c.block_at]
        if not blocked or blocked[0].block_at > moment:
            candidates = [c for c in self.customers if c.kind in ("regular", "occasional") and not c.lapse_at]
            customer = candidates[0] if candidates else self.new_customer(moment)
            customer.block_at = moment - timedelta(days=3)
            customer.notes = "Two chargebacks after delivery; blocked. Do not ship without prepayment."
            blocked = [customer]
        self._on_arrive(moment, {"customer": blocked[0], "channel": "web"})


def order_ref(order: SimOrder) -> str:
    """A stand-in for the order's number, which the database gives it; writing replaces it (ORDER_REF)."""
    return f"{{order:{order.index}}}"
