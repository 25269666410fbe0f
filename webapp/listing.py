"""One page of a long list (orders, products, customers), with the total for the pager."""
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from webapp.extensions import db

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_of(query: Select, number: int, *, rows: bool = False, size: int = PAGE_SIZE) -> Page:
    """Run ``query`` for page ``number`` (from 1); ``rows`` keeps whole result rows instead of single objects."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    limited = query.limit(size).offset((number - 1) * size)
    items = db.session.execute(limited).all() if rows else db.session.scalars(limited).all()
    return Page(items=list(items), total=total, number=number, size=size)
