"""What the shop tells webhooks, in one place: the two hooks (an order's event, a low-stock alert) and the
payload of each event."""
from webapp.webhooks_out.outbox import emit, subscribed


def _order_data(order) -> dict:
    customer = order.customer
    return {
        "number": order.number, "status": order.status, "payment_status": order.payment_status,
        "channel": order.channel, "priority": order.priority, "currency": order.currency,
        "subtotal": order.subtotal, "shipping": order.shipping, "tax": order.tax, "discount": order.discount,
        "total": order.total, "due_date": order.due_date, "created_at": order.created_at,
        "hold_reasons": list(order.hold_reasons or []), "external_ref": order.external_ref,
        "customer": {"name": customer.name, "email": customer.email} if customer else None,
        "lines": [{"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": line.unit_price,
                   "line_total": line.line_total} for line in order.lines],
    }


def order_event_recorded(order, *, kind: str, from_status: str | None, to_status: str | None) -> None:
    """Called for every event on an order's timeline: a new order, or a change of its status."""
    if kind == "created":
        event, data = "order.created", {}
    elif kind == "status" and from_status != to_status:
        event, data = "order.status_changed", {"from": from_status, "to": to_status}
    else:
        return
    if subscribed(event):  # intake records two events per order and most shops have no webhook: build no payload
        emit(event, {**data, "order": _order_data(order)})


def low_stock_alert_raised(product) -> None:
    """Called when a low-stock alert opens for a product (once, until the alert clears)."""
    emit("stock.low", {"product": {"sku": product.sku, "name": product.name, "on_hand": product.on_hand,
                                   "reserved": product.reserved, "available": product.available,
                                   "reorder_point": product.reorder_point}})
