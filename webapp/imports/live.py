"""Live-mode import: open orders taken in one by one through intake and the audit, as if they had just arrived."""
from decimal import Decimal

from flask import g
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.bulk import is_one_of
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.imports.formats import country_code
from webapp.imports.grouping import FileOrder, RowError
from webapp.imports.importing import CHANNEL, PREVIEW_ORDERS, WALK_IN, ImportSummary, received_from_platform
from webapp.orders.charged import ChargedTotals
from webapp.orders.intake import OrderInputError, take_order, tax_on
from webapp.orders.models import Order
from webapp.orders.schemas import OrderIn
from webapp.settings.models import current_settings
from webapp.validation import CENT


class LiveImport:
    """Open orders taken as if they had just arrived: each goes through intake and the audit (take_order), so
    stock is reserved for confirmed ones and an unknown SKU holds its order. Emails to customers are not sent:
    the shop the file came from has told them already."""

    batch_orders = 200  # each order goes through intake on its own: a batch, its commit and progress, a second

    def __init__(self, summary: ImportSummary, filename: str, *, actor: str, platform: str | None = None):
        self.summary = summary
        self.filename = filename
        self.actor = actor
        self.platform = platform
        g.suppress_notifications = True

    def take(self, batch: list[FileOrder]) -> None:
        summary = self.summary
        numbers = {order.number for order in batch if order.number}
        existing = set(db.session.scalars(select(Order.external_ref).where(
            Order.channel == CHANNEL, is_one_of(Order.external_ref, numbers)))) if numbers else set()
        received = received_from_platform(self.platform, numbers)
        for order in batch:
            if order.errors:
                summary.reject(order, order.errors)
                continue
            if order.number in existing or order.number in received:
                summary.already_imported += 1
                summary.already_received += order.number in received
                continue
            if order.returns:
                summary.reject(order, [RowError(order.returns[0].line, "a negative quantity (a return) is "
                                                "imported with --history, against its delivered order",
                                                order.number)])
                continue
            try:
                data = OrderIn.model_validate(self._order_body(order))
            except ValidationError as error:
                problem = error.errors()[0]
                where = ".".join(str(part) for part in problem["loc"])
                summary.reject(order, [RowError(order.first_line, f"{where}: {problem['msg']}", order.number)])
                continue
            known = self._customer(order)
            try:
                with db.session.begin_nested():
                    taken = take_order(data, actor=self.actor, customer=known, charged=self._charged(order, data))
            except OrderInputError as error:
                field, messages = next(iter(error.errors.items()))
                summary.reject(order, [RowError(order.first_line, f"{field}: {messages[0]}", order.number)])
                continue
            except IntegrityError:  # imported at the same moment by another run
                summary.already_imported += 1
                continue
            existing.add(order.number)
            summary.customers_created += known is None
            summary.orders += 1
            summary.lines += len(order.lines)
            summary.total += taken.total
            summary.held += taken.status == "on_hold"
            if len(summary.preview) < PREVIEW_ORDERS:
                summary.preview.append({
                    "number": order.number, "line": order.first_line, "date": taken.created_at.isoformat(sep=" "),
                    "status": taken.status, "customer": taken.customer.name,
                    "lines": [{"sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
                              for line in taken.lines],
                    "total": str(taken.total), "hold_reasons": list(taken.hold_reasons),
                })

    @staticmethod
    def _customer(order: FileOrder) -> Customer | None:
        """The order's customer as history mode finds them: on email, else on the exact name of a customer without
        one, else the one walk-in customer; None when take_order is to create them."""
        email = order.fields.get("customer_email", "").strip().lower()
        if email:
            if "@" not in email:
                return None  # refused by the order's validation, by name
            query = select(Customer).where(Customer.email == email[:254])
        else:
            name = order.customer_name or WALK_IN
            query = select(Customer).where(Customer.name == name, Customer.email.is_(None))
        return db.session.scalars(query.order_by(Customer.id).limit(1)).first()

    def _charged(self, order: FileOrder, data: OrderIn) -> ChargedTotals | None:
        """The file's own total (with its shipping, tax and discount), kept as the platform's are for webhooks;
        None when the file gives no total: the order is then priced as any new order."""
        if "total" not in order.charged:
            return None
        charged = order.charged
        settings = current_settings()
        shipping = charged.get("shipping", Decimal("0.00"))
        discount = charged.get("discount", Decimal("0.00"))
        lines = sum(((line.unit_price or Decimal(0)) * line.quantity for line in data.lines), Decimal(0))
        tax = charged["tax"] if "tax" in charged else tax_on(lines + shipping - discount, settings)
        return ChargedTotals(shipping=shipping, discount=discount, tax=tax, total=charged["total"],
                             tax_included=settings.prices_include_tax)

    def _order_body(self, order: FileOrder) -> dict:
        fields = order.fields
        email = fields.get("customer_email", "").strip()
        address = {"city": fields.get("city") or None, "country": country_code(fields.get("country", ""))}
        return {
            "customer": {"name": order.customer_name or WALK_IN, "email": email or None,
                         "address": address if any(address.values()) else None},
            "lines": [{"sku": line.sku, "quantity": line.quantity,
                       **({"unit_price": line.unit_price.quantize(CENT)} if line.unit_price is not None else {})}
                      for line in order.lines],
            "channel": CHANNEL, "external_ref": order.number[:100],
            "notes": f"Imported from {self.filename}, line {order.first_line}."[:5000],
        }
