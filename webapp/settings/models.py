"""The shop's settings: audit thresholds and the like, one row edited from the settings page."""
from decimal import Decimal

from sqlalchemy import LargeBinary, Numeric, String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, deferred, mapped_column

from webapp.extensions import db


class ShopSettings(db.Model):
    __tablename__ = "shop_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_name: Mapped[str] = mapped_column(String(120), default="My shop")
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    # Audit thresholds (DESIGN.md §3).
    price_tolerance_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10.00"))
    review_total_threshold: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("1000.00"))
    duplicate_window_minutes: Mapped[int] = mapped_column(default=60)
    express_window_days: Mapped[int] = mapped_column(default=2)
    require_shipping_address: Mapped[bool] = mapped_column(default=True)
    # Email: the shop's address (sender, and where the owner's notifications go) and what is sent.
    shop_email: Mapped[str | None] = mapped_column(String(254))
    email_owner_new_order: Mapped[bool] = mapped_column(default=True)
    email_customer_confirmation: Mapped[bool] = mapped_column(default=True)
    email_customer_shipped: Mapped[bool] = mapped_column(default=True)
    email_customer_invoice: Mapped[bool] = mapped_column(default=True)
    email_low_stock_alert: Mapped[bool] = mapped_column(default=True)
    email_supplier_purchase_request: Mapped[bool] = mapped_column(default=False)
    email_overdue_alert: Mapped[bool] = mapped_column(default=True)
    email_failed_job_alert: Mapped[bool] = mapped_column(default=True)
    email_daily_digest: Mapped[bool] = mapped_column(default=True)
    email_reorder_advice: Mapped[bool] = mapped_column(default=True)
    email_customer_feedback: Mapped[bool] = mapped_column(default=True)
    # The shop profile printed on invoices.
    shop_address: Mapped[str] = mapped_column(Text, default="")
    tax_id: Mapped[str | None] = mapped_column(String(40))
    payment_details: Mapped[str] = mapped_column(Text, default="")
    invoice_footer: Mapped[str] = mapped_column(Text, default="")
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    prices_include_tax: Mapped[bool] = mapped_column(default=True)
    invoice_on: Mapped[str] = mapped_column(String(16), default="shipped")  # confirmed | shipped | manual
    paper_size: Mapped[str] = mapped_column(String(8), default="A4")  # A4 | Letter
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Reordering: the chance of not running out during a supplier's lead time, and how many days an order covers.
    service_level_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("95.00"))
    reorder_cover_days: Mapped[int] = mapped_column(default=30)
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_mime: Mapped[str | None] = mapped_column(String(32))
    # Shared secrets that sign webhooks from the shop platforms (kept as given: verifying a signature needs them).
    shopify_webhook_secret: Mapped[str | None] = mapped_column(String(200))
    woocommerce_webhook_secret: Mapped[str | None] = mapped_column(String(200))
    # Hash of the one-time token that guards creating the first owner account.
    setup_token_hash: Mapped[str | None] = mapped_column(String(64))


def current_settings() -> ShopSettings:
    """The settings row, created with defaults on first use."""
    settings = db.session.get(ShopSettings, 1)
    if settings is None:
        try:
            with db.session.begin_nested():  # concurrent first requests each try to create it
                settings = ShopSettings(id=1)
                db.session.add(settings)
        except IntegrityError:
            settings = db.session.get(ShopSettings, 1)
    return settings
