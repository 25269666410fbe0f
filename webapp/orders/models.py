"""Orders, their lines and their timeline."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.timekeeping import utcnow

CHANNELS = ("web", "api", "import", "shopify", "woocommerce", "paste")
PRIORITIES = ("standard", "express")
PAYMENT_STATUSES = ("unpaid", "paid", "refunded", "partially_refunded")
# Orders that never became sales: left out of revenue, demand and every "usual" figure.
NOT_SALES = ("cancelled", "rejected")
# The unusual-orders check (webapp.analytics.anomalies) on an order's stored figures: at least USUAL_AFTER earlier
# orders that earn, and a total above UNUSUAL_FACTOR times their mean or below its 1/UNUSUAL_FACTOR, compared in whole
# cents without dividing. The predicate of a partial index, repeated word for word by the check's query so that both
# databases see the index serves it (changing a number here takes a migration that rebuilds the index).
USUAL_AFTER = 3
UNUSUAL_FACTOR = 3
_TOTAL_CENTS, _SPENT_CENTS = "CAST(round(total * 100) AS BIGINT)", "CAST(round(earlier_total * 100) AS BIGINT)"
UNUSUAL_BY_STORED_FIGURES = (
    f"earlier_orders >= {USUAL_AFTER} AND earlier_total > 0"
    f" AND ({_TOTAL_CENTS} * earlier_orders > {_SPENT_CENTS} * {UNUSUAL_FACTOR}"
    f" OR {_TOTAL_CENTS} * earlier_orders * {UNUSUAL_FACTOR} < {_SPENT_CENTS})")
# Orders that have left the shop.
SHIPPED_OR_LATER = ("shipped", "delivered", "returned")


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        # An order's lines, and for the dashboard everything it sums of them, read from the index alone.
        Index("ix_order_lines_sales", "order_id", "product_id", "sku", "quantity", "line_total", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    product: Mapped["Product | None"] = relationship()  # noqa: F821


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_created", "status", "created_at"),
        # The board: a column's first cards, express first ("express" < "standard"), then oldest.
        Index("ix_orders_board_column", "status", "priority", "created_at", "id"),
        Index("ix_orders_status_shipped", "status", "shipped_at"),
        Index("ix_orders_updated_at", "updated_at"),
        # The dashboard: orders placed in a date range with every column its figures read, so they are counted
        # and summed from the index alone; and a customer's orders in time order (with the status and total, so a
        # customer's history is summed from the index alone).
        Index("ix_orders_sales", "created_at", "status", "total", "customer_id", "shipped_at", "channel", "shop_day",
              "earlier_orders", "earlier_total", "hours_to_ship", "previous_order_at", "days_since_previous_order"),
        Index("ix_orders_customer_created", "customer_id", "created_at", "status", "total"),
        # The dashboard's medians: the middle value read in value order, by LIMIT/OFFSET, instead of sorting a range.
        Index("ix_orders_hours_to_ship", "hours_to_ship", "created_at",
              sqlite_where=text("hours_to_ship IS NOT NULL"), postgresql_where=text("hours_to_ship IS NOT NULL")),
        Index("ix_orders_days_since_previous", "days_since_previous_order", "previous_order_at", "created_at", "status",
              sqlite_where=text("days_since_previous_order IS NOT NULL"),
              postgresql_where=text("days_since_previous_order IS NOT NULL")),
        # Shipped orders whose hours to ship are not worked out yet (usually none), and
        Index("ix_orders_hours_unknown", "hours_to_ship", "created_at",
              sqlite_where=text("shipped_at IS NOT NULL AND hours_to_ship IS NULL"),
              postgresql_where=text("shipped_at IS NOT NULL AND hours_to_ship IS NULL")),
        # Orders whose shop day is not worked out yet (usually none): the dashboard counts them live until it is.
        Index("ix_orders_day_unknown", "shop_day", "created_at",
              sqlite_where=text("shop_day IS NULL"), postgresql_where=text("shop_day IS NULL")),
        # Orders whose earlier orders are not worked out yet: where a customer's stored figures stop being trusted.
        # Both lead with the NULL column, so SQLite seeks them (it passes over a partial index it has no statistics
        # for, and an empty one has none).
        Index("ix_orders_earlier_unknown", "earlier_orders", "customer_id", "created_at",
              sqlite_where=text("earlier_orders IS NULL"), postgresql_where=text("earlier_orders IS NULL")),
        # Orders their stored figures mark unusual (webapp.analytics.anomalies), about 1 in 100: the check reads these
        # few in a date range instead of testing every order of it.
        Index("ix_orders_unusual", "created_at", sqlite_where=text(UNUSUAL_BY_STORED_FIGURES),
              postgresql_where=text(UNUSUAL_BY_STORED_FIGURES)),
        # An imported order comes in once: importing the same file twice creates nothing new. Only for imports:
        # other channels (the API) may legitimately repeat a reference.
        Index("uq_orders_import_external_ref", "external_ref", unique=True,
              sqlite_where=text("channel = 'import'"), postgresql_where=text("channel = 'import'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    payment_status: Mapped[str] = mapped_column(String(24), default="unpaid")
    priority: Mapped[str] = mapped_column(String(16), default="standard")
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    # Whether ``total`` already holds the tax (prices include it) or has it added; None on orders stored before
    # this was kept, which follow the shop's setting.
    tax_included: Mapped[bool | None]
    # The platform's taxes per rate ({"title", "rate_percent", "amount"}), for the invoice; empty for own orders.
    tax_lines: Mapped[list | None] = mapped_column(JSON)
    due_date: Mapped[date | None]
    shipping_method: Mapped[str | None] = mapped_column(String(64))
    ship_name: Mapped[str | None] = mapped_column(String(200))
    ship_line1: Mapped[str | None] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str | None] = mapped_column(String(100))
    ship_postcode: Mapped[str | None] = mapped_column(String(20))
    ship_country: Mapped[str | None] = mapped_column(String(2))
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    hold_reasons: Mapped[list] = mapped_column(JSON, default=list)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    shipped_at: Mapped[datetime | None]
    # The date it was placed in the shop's time zone, kept by webapp.orders.shop_days (NULL: not worked out yet).
    shop_day: Mapped[date | None]
    # How many orders that earn the same customer placed before this one, and their total: the "usual order" of the
    # unusual-orders check, kept by webapp.orders.earlier_orders (NULL: not worked out yet).
    earlier_orders: Mapped[int | None]
    earlier_total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # The customer's previous order that earns (its placing time, and the days since), kept with earlier_orders.
    previous_order_at: Mapped[datetime | None]
    days_since_previous_order: Mapped[float | None]
    # shipped_at - created_at, kept by webapp.orders.shipping_times (NULL: not shipped, or not worked out yet).
    hours_to_ship: Mapped[float | None]

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(order_by=OrderLine.id, cascade="all, delete-orphan")
    events: Mapped[list["OrderEvent"]] = relationship(
        order_by="OrderEvent.id", cascade="all, delete-orphan", back_populates="order"
    )

    # Filled for a page of orders at once by orders.search.fill_item_counts; loads on its own if touched alone.
    item_count: Mapped[int] = column_property(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .where(OrderLine.order_id == id)
        .correlate_except(OrderLine)
        .scalar_subquery(),
        deferred=True,
    )

    @property
    def ship_address_lines(self) -> list[str]:
        city = " ".join(part for part in (self.ship_postcode, self.ship_city) if part)
        parts = [self.ship_name, self.ship_line1, self.ship_line2, city, self.ship_country]
        return [part for part in parts if part]

    @property
    def customer_address_lines(self) -> list[str]:
        c = self.customer
        town = " ".join(part for part in (c.postcode, c.city) if part)
        return [part for part in (c.address_line1, c.address_line2, town, c.country) if part]

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.ship_line1 and self.ship_city and self.ship_country)


class OrderEvent(db.Model):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # created, status, hold, payment, note
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
