"""What the board shows: which orders go in which column, the filters, and a cheap version tag for polling."""
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.orders.models import CHANNELS, PRIORITIES, Order
from webapp.orders.search import fill_item_counts, text_filter
from webapp.orders.ship_dates import ship_time_model
from webapp.timekeeping import shop_today, shop_zone, utcnow
from webapp.validation import clean_text


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    statuses: tuple[str, ...]
    shipped_today: bool = False


COLUMNS = (
    Column("attention", "Needs attention", ("pending", "on_hold")),
    Column("confirmed", "To pack", ("confirmed",)),
    Column("processing", "Packing", ("processing",)),
    Column("shipped", "Shipped today", ("shipped",), shipped_today=True),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}


@dataclass(frozen=True)
class BoardFilters:
    column: str = ""
    channel: str = ""
    priority: str = ""
    q: str = ""
    tab: str = COLUMNS[0].key

    def as_query(self, **changes) -> dict:
        values = {"column": self.column, "channel": self.channel, "priority": self.priority, "q": self.q,
                  "tab": self.tab} | changes
        return {key: value for key, value in values.items() if value}

    @property
    def columns(self) -> tuple[Column, ...]:
        return (COLUMNS_BY_KEY[self.column],) if self.column else COLUMNS


def read_filters(args) -> tuple[BoardFilters, list[str]]:
    """Filters from a query string; unknown values are dropped and reported."""
    errors = []
    column = args.get("column", "")
    if column and column not in COLUMNS_BY_KEY:
        errors.append(f"There is no board column '{column}'.")
        column = ""
    channel = args.get("channel", "")
    if channel and channel not in CHANNELS:
        errors.append(f"'{channel}' is not a channel; choose one of {', '.join(CHANNELS)}.")
        channel = ""
    priority = args.get("priority", "")
    if priority and priority not in PRIORITIES:
        errors.append(f"'{priority}' is not a priority; choose standard or express.")
        priority = ""
    q = clean_text(args.get("q", ""), limit=1000)
    if len(q) > 100:
        errors.append("The search text is limited to 100 characters.")
        q = q[:100]
    tab = args.get("tab") or column or COLUMNS[0].key
    if tab not in COLUMNS_BY_KEY:
        errors.append(f"There is no board tab '{tab}'.")
        tab = COLUMNS[0].key
    return BoardFilters(column=column, channel=channel, priority=priority, q=q, tab=tab), errors


def start_of_shop_day() -> datetime:
    """Midnight today in the shop's time zone, as naive UTC."""
    zone = shop_zone()
    return datetime.combine(shop_today(), time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _column_conditions(column: Column, filters: BoardFilters, day_start: datetime) -> list:
    conditions = [Order.status.in_(column.statuses)]
    if column.shipped_today:
        conditions.append(Order.shipped_at >= day_start)
    if filters.channel:
        conditions.append(Order.channel == filters.channel)
    if filters.priority:
        conditions.append(Order.priority == filters.priority)
    if filters.q:
        conditions.append(text_filter(filters.q))
    return conditions


def column_cards(column: Column, filters: BoardFilters, day_start: datetime, *, limit: int,
                 offset: int = 0) -> list[Order]:
    """Cards for one column: express first, then oldest first (shipped: newest first)."""
    # Priorities sort express before standard, so ix_orders_board_column serves this without a sort.
    order_by = ((Order.shipped_at.desc(),) if column.shipped_today
                else (Order.priority, Order.created_at, Order.id))
    cards = list(db.session.scalars(
        select(Order)
        .where(*_column_conditions(column, filters, day_start))
        .options(joinedload(Order.customer))
        .order_by(*order_by)
        .limit(limit)
        .offset(offset)
    ))
    fill_item_counts(cards)
    return cards


def column_count(column: Column, filters: BoardFilters, day_start: datetime) -> int:
    return db.session.scalar(
        select(func.count(Order.id)).where(*_column_conditions(column, filters, day_start))
    )


def board_version(filters: BoardFilters, viewer_role: str, day_start: datetime) -> str:
    """An ETag that changes when any order changes, the day turns, a minute passes (card ages and predicted ship
    dates), the ship-time model is rebuilt, or the view differs."""
    last_change = db.session.scalar(select(func.max(Order.updated_at)))
    minute = utcnow().strftime("%Y%m%d%H%M")
    # Predicted ship dates come from a cached model that may be rebuilt without any order changing.
    model = ship_time_model().version
    raw = f"{last_change}|{day_start}|{minute}|{model}|{viewer_role}|{sorted(filters.as_query().items())}"
    return hashlib.sha1(raw.encode()).hexdigest()[:20]
