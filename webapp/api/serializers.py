"""Orders and products as JSON: money as decimal strings, times as ISO 8601 UTC."""
from datetime import datetime
from decimal import Decimal

from webapp.catalog.models import Product
from webapp.orders.models import Order


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def order_summary(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "priority": order.priority,
        "channel": order.channel,
        "currency": order.currency,
        "customer": {
            "name": order.customer.name, "email": order.customer.email, "phone": order.customer.phone,
        },
        "subtotal": money(order.subtotal),
        "shipping": money(order.shipping),
        "tax": money(order.tax),
        "discount": money(order.discount),
        "total": money(order.total),
        "due_date": order.due_date.isoformat() if order.due_date else None,
        "hold_reasons": list(order.hold_reasons or []),
        "external_ref": order.external_ref,
        "created_at": timestamp(order.created_at),
        "updated_at": timestamp(order.updated_at),
    }


def order_detail(order: Order) -> dict:
    data = order_summary(order)
    data.update({
        "shipping_address": {
            "name": order.ship_name, "line1": order.ship_line1, "line2": order.ship_line2,
            "city": order.ship_city, "postcode": order.ship_postcode, "country": order.ship_country,
        },
        "shipping_method": order.shipping_method,
        "notes": order.notes,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "shipped_at": timestamp(order.shipped_at),
        "lines": [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": money(line.unit_price),
             "line_total": money(line.line_total), "known_product": line.product_id is not None}
            for line in order.lines
        ],
        "events": [
            {"kind": event.kind, "from": event.from_status, "to": event.to_status, "note": event.note,
             "actor": event.actor, "at": timestamp(event.created_at)}
            for event in order.events
        ],
    })
    return data


def product_json(product: Product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "unit_price": money(product.unit_price),
        "unit_cost": money(product.unit_cost),
        "on_hand": product.on_hand,
        "reserved": product.reserved,
        "available": product.available,
        "reorder_point": product.reorder_point,
        "lead_time_days": product.lead_time_days,
        "supplier_email": product.supplier_email,
        "active": product.active,
    }


def _day(value) -> str | None:
    return value.isoformat() if value else None


def forecast_json(product, forecast, advice) -> dict:
    return {
        "sku": product.sku, "model": forecast.model, "model_note": forecast.model_note,
        "as_of": forecast.as_of.isoformat(), "generated_at": timestamp(forecast.generated_at),
        "fitted_on": _day(forecast.fitted_on), "refit_note": forecast.refit_note,
        "points": forecast.points_from(forecast.as_of),
        "backtest": {"mae": forecast.backtest_mae, "mase": forecast.backtest_mase,
                     "baseline_mae": forecast.baseline_mae, "baseline_mase": forecast.baseline_mase,
                     "demand_shift": forecast.demand_shift},
        "available": product.available, "stale": advice is None,
        # An out-of-date forecast (a week old) gives no advice.
        "stockout_date": _day(advice and advice.stockout_date),
        "stockout_earliest": _day(advice and advice.stockout_earliest),
        "stockout_latest": _day(advice and advice.stockout_latest), "reorder_by": _day(advice and advice.reorder_by),
        "reorder_point": advice and advice.reorder_point, "safety_stock": advice and advice.safety_stock,
        "reorder_qty": advice and advice.reorder_qty,
    }
