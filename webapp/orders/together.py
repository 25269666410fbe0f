"""Often bought together: products that shared past orders with the ones on the order being entered."""
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from webapp.catalog.models import Product
from webapp.extensions import db
from webapp.orders.models import NOT_SALES, Order, OrderLine

SUGGESTIONS = 5


def often_bought_with(product_ids: set[int], limit: int = SUGGESTIONS) -> list[Product]:
    """Up to ``limit`` other active products, most often in the same past orders as any of ``product_ids`` first.

    An order counts once for a product however many of ``product_ids`` it held; cancelled and rejected orders do
    not count. Ties go by SKU so the list does not jump about as the owner types. One query.
    """
    if not product_ids:
        return []
    mine, other = aliased(OrderLine), aliased(OrderLine)
    together = func.count(func.distinct(other.order_id))
    query = (select(Product)
             .join(other, other.product_id == Product.id)
             .join(mine, mine.order_id == other.order_id)
             .join(Order, Order.id == other.order_id)
             .where(mine.product_id.in_(product_ids), Product.id.not_in(product_ids), Product.active,
                    Order.status.not_in(NOT_SALES))
             .group_by(Product.id).order_by(together.desc(), Product.sku).limit(limit))
    return list(db.session.scalars(query))
