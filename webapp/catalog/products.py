"""Creating and changing products, and applying stock changes, for the API and the web forms alike."""
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.catalog.models import Product
from webapp.catalog.schemas import ProductIn, StockChangeIn
from webapp.catalog.stock import adjust_stock, receive_stock
from webapp.extensions import db


class DuplicateSku(Exception):
    pass


def find_product(sku: str) -> Product | None:
    return db.session.scalars(select(Product).where(Product.sku == sku)).first()


def save_product(data: ProductIn, product: Product | None = None) -> Product:
    """Create a product, or update ``product``; raises DuplicateSku when the SKU belongs to another."""
    other = find_product(data.sku)
    if other is not None and other is not product:
        raise DuplicateSku(f"SKU {data.sku} is already used by {other.name}.")
    if product is None:
        product = Product(on_hand=0, reserved=0)
        db.session.add(product)
    for field, value in data.model_dump().items():
        setattr(product, field, value)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same SKU added at the same moment by another request
        raise DuplicateSku(f"SKU {data.sku} is already used.") from error
    return product


def change_stock(product: Product, change: StockChangeIn, *, actor: str) -> None:
    """Receive goods or adjust a count; raises StockError with a clear message when not possible."""
    if change.kind == "receive":
        receive_stock(product, change.delta, reason=change.reason, actor=actor)
    else:
        adjust_stock(product, change.delta, reason=change.reason, actor=actor)


def search_products(text: str | None, *, active_only: bool = False):
    """SELECT of products whose SKU or name contains ``text``, by SKU."""
    query = select(Product)
    if active_only:
        query = query.where(Product.active.is_(True))
    if text and text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(func.lower(Product.sku).like(pattern), func.lower(Product.name).like(pattern)))
    return query.order_by(Product.sku)
