"""Invoices and credit notes, numbered from gapless per-year sequences."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from webapp.extensions import db
from webapp.orders.models import Order
from webapp.timekeeping import utcnow

SERIES = {"invoice": "INV", "credit_note": "CN"}


class DocumentSequence(db.Model):
    """The last number used per series and year; one row, locked while a number is taken."""
    __tablename__ = "document_sequences"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(db.Model):
    __tablename__ = "invoices"
    # One invoice per order; credit notes, one per refund, as many as refunds.
    __table_args__ = (
        Index("uq_invoices_one_invoice_per_order", "order_id", unique=True,
              postgresql_where=text("kind = 'invoice'"), sqlite_where=text("kind = 'invoice'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice")  # invoice | credit_note
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"), server_default="0")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # As on the order when issued: a later change of the shop's settings does not rewrite an issued invoice.
    tax_included: Mapped[bool | None]
    tax_lines: Mapped[list | None] = mapped_column(JSON)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_rendered_at: Mapped[datetime | None]
    render_error: Mapped[str | None] = mapped_column(String(500))
    # Decided when issued (the worker that makes the PDF later cannot know, e.g., that a demo seed issued it).
    email_customer: Mapped[bool] = mapped_column(default=True)

    order: Mapped[Order] = relationship()

    @property
    def tax_rows(self) -> list[tuple[str, Decimal | None, Decimal]]:
        """The platform's taxes per rate as (title, rate percent or None, amount), for the document."""
        return [(line["title"], None if line.get("rate_percent") is None else Decimal(line["rate_percent"]),
                 Decimal(line["amount"])) for line in self.tax_lines or []]

    @property
    def title(self) -> str:
        return "Credit note" if self.kind == "credit_note" else "Invoice"

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"
