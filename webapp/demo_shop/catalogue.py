"""The demo shop's catalogue: a ceramics maker's products, from fast-selling mugs to one-off vases."""
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    price: Decimal
    cost: Decimal
    share: float  # relative demand: how often it is picked when an order is put together
    lead_time_days: int
    supplier_email: str
    season: str = "all_year"  # see demand.product_season
    # How units are usually bought: plates and bowls in pairs and fours, mugs one or two at a time.
    quantities: tuple[int, ...] = (1, 1, 1, 1, 2, 2, 3)
    launched_days_ago: int | None = None
    discontinued_days_ago: int | None = None
    late_supplier: bool = False  # the last purchase has not arrived: the product runs low at the end
    add_on: bool = False  # added to orders as an extra, not chosen on its own


def _p(sku, name, price, cost, share, lead, supplier, **extra) -> DemoProduct:
    return DemoProduct(sku, name, Decimal(price), Decimal(cost), share, lead, supplier, **extra)


STUDIO = "kiln@stoke-clayworks.example"
THROWER = "orders@riverside-throwing.example"
GLAZES = "sales@glaze-and-fire.example"
PRINTER = "hello@paper-press.example"
SETS = (1, 2, 2, 4, 4, 6)
SINGLE = (1, 1, 1, 1, 1, 2)

PRODUCTS = (
    # Fast movers: several units most days.
    _p("MUG-BLU", "Blue stoneware mug", "14.00", "4.20", 16, 10, STUDIO),
    _p("MUG-GRN", "Green stoneware mug", "14.00", "4.20", 12, 21, STUDIO),
    _p("BWL-CER", "Cereal bowl", "16.50", "4.80", 10, 14, THROWER, quantities=SETS),
    _p("PLT-DIN", "Dinner plate", "19.00", "5.60", 9, 21, THROWER, quantities=SETS),
    _p("MUG-TRQ", "Turquoise mug", "15.00", "4.50", 9, 10, STUDIO, launched_days_ago=90),
    # Medium.
    _p("PLT-SID", "Side plate", "13.00", "3.90", 7, 21, THROWER, quantities=SETS),
    _p("MUG-SPK", "Speckled espresso cup", "11.50", "3.10", 6, 10, STUDIO),
    _p("VAS-BUD", "Bud vase", "18.00", "4.50", 5, 14, GLAZES, season="spring"),
    _p("MUG-TRV", "Travel mug with lid", "16.00", "5.00", 5, 14, STUDIO, discontinued_days_ago=200),
    _p("PLN-SML", "Small planter with saucer", "22.00", "6.30", 4, 12, GLAZES, season="spring"),
    _p("BWL-RMN", "Ramen bowl", "24.00", "7.20", 4, 21, THROWER, quantities=(1, 2, 2, 2, 4)),
    _p("JUG-MLK", "Milk jug", "17.00", "5.10", 3, 18, THROWER, late_supplier=True),
    _p("CND-HLD", "Candle holder", "12.00", "3.20", 3, 7, GLAZES, season="candles"),
    # Slow movers: a unit every week or two.
    _p("BWL-LRG", "Large serving bowl", "38.00", "11.00", 2.0, 28, THROWER, quantities=SINGLE),
    _p("TPT-6CP", "Six-cup teapot", "54.00", "17.50", 1.3, 30, STUDIO, season="winter", quantities=SINGLE),
    _p("SET-4PL", "Set of four dinner plates", "68.00", "21.00", 0.8, 21, THROWER, quantities=SINGLE),
    _p("PLT-OVL", "Oval serving platter", "42.00", "12.50", 0.6, 25, THROWER, quantities=(1,)),
    _p("VAS-SCU", "Sculptural vase", "95.00", "28.00", 0.5, 30, GLAZES, quantities=(1,)),
    # Gift wrapping and a card, added to orders, mostly before Christmas.
    _p("GFT-CRD", "Gift card and wrapping", "3.50", "0.60", 0, 3, PRINTER, quantities=(1,), add_on=True),
)
