"""The dashboard's daily rollups: per shop day, what its orders add up to, so a year's figures sum a few hundred rows
instead of every order and line. Kept by webapp.analytics.daily_sales; never the only truth (see there)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class DailySales(db.Model):
    """The orders placed on one shop day through one channel."""

    __tablename__ = "daily_sales"

    shop_day: Mapped[date] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    orders: Mapped[int]
    earning_orders: Mapped[int]  # neither cancelled nor rejected
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # the earning orders' totals
    shipped_orders: Mapped[int]
    hours_to_ship: Mapped[float]  # summed over the shipped orders
    unknown_hours: Mapped[int]  # shipped orders whose hours to ship are not stored yet (usually none)
    delivered: Mapped[int]
    left_pending: Mapped[int]
    cancelled: Mapped[int]
    returned: Mapped[int]
    shipped_or_later: Mapped[int]


class DailyProductSales(db.Model):
    """What one SKU, sold as one product (None: no product), sold on one shop day in orders that earn."""

    __tablename__ = "daily_product_sales"
    __table_args__ = (
        # A range's rows read from the index alone.
        Index("ix_daily_product_sales_day", "shop_day", "sku", "product_id", "units", "revenue", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_day: Mapped[date]
    sku: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200))  # the greatest line name of the day
    units: Mapped[int]
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class DailyCustomerSales(db.Model):
    """What one customer bought on one shop day: their orders that earn, and those orders' totals. A year's buyers
    sum some 70,000 of these instead of grouping 160,000 orders (webapp.analytics.buyers)."""

    __tablename__ = "daily_customer_sales"
    __table_args__ = (
        # A range's rows read from the index alone.
        Index("ix_daily_customer_sales_day", "shop_day", "customer_id", "orders", "spent"),
    )

    shop_day: Mapped[date] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(primary_key=True)
    orders: Mapped[int]
    spent: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class SalesDayChanged(db.Model):
    """A shop day whose orders or lines changed since its rollups were last worked out: written by database
    triggers (every write path, ORM or bulk), removed by the rebuild. ``changed_in``: the PostgreSQL transaction
    that noted it, so that a transaction notes a day once however many rows it writes."""

    __tablename__ = "sales_days_changed"
    __table_args__ = (Index("ix_sales_days_changed_day", "shop_day", "changed_in"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_day: Mapped[date]
    changed_in: Mapped[int | None] = mapped_column(db.BigInteger)
