"""What the board shows: which orders go in which column, the filters, and a cheap version tag for polling."""
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cache

from sqlalchemy import Integer, String, bindparam, cast, func, literal, select, union_all

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import CHANNELS, PRIORITIES, Order, OrderLine
from webapp.orders.search import text_filter, text_pattern
from webapp.orders.ship_dates import ship_time_model
from webapp.settings.models import ShopSettings
from webapp.timekeeping import remember_shop_zone, shop_today, shop_zone, utcnow
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


@dataclass(frozen=True)
class FilterShape:
    """Which filters a view uses, not their values: the board's statements are built once per shape and column
    set, and the values are bound when they run (building and keying them cost more than running them)."""
    channel: bool = False
    priority: bool = False
    text: bool = False

    @classmethod
    def of(cls, filters: BoardFilters) -> "FilterShape":
        return cls(channel=bool(filters.channel), priority=bool(filters.priority), text=bool(filters.q))


def _parameters(filters: BoardFilters, day_start: datetime, **extra) -> dict:
    """The values for the bind parameters of _column_conditions."""
    return {"day_start": day_start, "channel": filters.channel, "priority": filters.priority,
            "text_pattern": text_pattern(filters.q)} | extra


def _column_conditions(column: Column, shape: FilterShape) -> list:
    conditions = [Order.status.in_(column.statuses)]
    if column.shipped_today:
        conditions.append(Order.shipped_at >= bindparam("day_start"))
    if shape.channel:
        conditions.append(Order.channel == bindparam("channel"))
    if shape.priority:
        conditions.append(Order.priority == bindparam("priority"))
    if shape.text:
        conditions.append(text_filter(bindparam("text_pattern")))
    return conditions


# What a card shows, read as plain rows: the board needs no ORM objects, relationships or identity map.
CARD_FIELDS = (Order.number, Order.status, Order.priority, Order.created_at, Order.total, Order.currency,
               Order.due_date, Order.carrier, Order.tracking_number, Order.hold_reasons)


def _column_key(column: Column):
    """The column's key as an SQL value, typed so that PostgreSQL accepts it in a UNION."""
    return cast(literal(column.key, String()), String()).label("column_key")


def _sort_cards(column: Column, cards: list) -> None:
    """Put a column's cards back in _picked's order (a join keeps no order)."""
    if column.shipped_today:
        cards.sort(key=lambda card: (card.shipped_at, card.id), reverse=True)
    else:
        cards.sort(key=lambda card: (card.priority, card.created_at, card.id))


def _picked(column: Column, shape: FilterShape):
    """The ids of one column's cards: express first, then oldest first (shipped: newest first)."""
    # Priorities sort express before standard, so ix_orders_board_column serves this without a sort, and
    # ix_orders_status_shipped the shipped column; both cover these few columns, so no table row is read here.
    order_by = ((Order.shipped_at.desc(), Order.id.desc()) if column.shipped_today
                else (Order.priority, Order.created_at, Order.id))
    return select(
        select(_column_key(column), Order.id)
        .where(*_column_conditions(column, shape))
        .order_by(*order_by)
        .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
        .subquery()
    )


@cache
def _cards_statement(columns: tuple[Column, ...], shape: FilterShape):
    picked = union_all(*(_picked(column, shape) for column in columns)).subquery()
    item_count = (select(func.coalesce(func.sum(OrderLine.quantity), 0))
                  .where(OrderLine.order_id == Order.id).scalar_subquery())
    return (
        select(picked.c.column_key, Order.id, Order.shipped_at, *CARD_FIELDS,
               Customer.name.label("customer_name"), item_count.label("item_count"))
        .join(Order, Order.id == picked.c.id)
        .join(Customer, Customer.id == Order.customer_id)
    )


def board_cards(columns: tuple[Column, ...], filters: BoardFilters, day_start: datetime, *, limit: int,
                offset: int = 0) -> dict[str, list]:
    """The cards of each column (column key -> rows with CARD_FIELDS, customer_name and item_count) in one query.

    The ids are picked per column first (LIMIT in a subquery each), so the customer join and the item count run
    for the shown cards only, never for every order of a status."""
    rows = db.session.execute(_cards_statement(columns, FilterShape.of(filters)),
                              _parameters(filters, day_start, limit=limit, offset=offset)).all()
    cards = {column.key: [] for column in columns}
    for row in rows:
        cards[row.column_key].append(row)
    for column in columns:
        _sort_cards(column, cards[column.key])
    return cards


@cache
def _counts_statement(columns: tuple[Column, ...], shape: FilterShape):
    return union_all(*(
        select(_column_key(column), func.count().label("orders"))
        .select_from(Order).where(*_column_conditions(column, shape))
        for column in columns
    ))


def column_counts(columns: tuple[Column, ...], filters: BoardFilters, day_start: datetime) -> dict[str, int]:
    """How many orders each column holds, in one query: a count per column (UNION ALL), so each is answered
    from its own index range (a GROUP BY over every status would also walk all of shipped's history)."""
    rows = db.session.execute(_counts_statement(columns, FilterShape.of(filters)),
                              _parameters(filters, day_start)).all()
    return {key: count for key, count in rows}


# All a poll reads from the database besides the signed-in user: the orders' last change and the shop's time zone
# (whose midnight starts "Shipped today"), in one statement built once.
LAST_CHANGE = select(func.max(Order.updated_at)).scalar_subquery().label("last_change")
SHOP_TIME_ZONE = select(ShopSettings.time_zone).where(ShopSettings.id == 1).scalar_subquery().label("time_zone")
_STATE_STATEMENT = select(LAST_CHANGE, SHOP_TIME_ZONE)


def board_version(filters: BoardFilters, viewer_role: str) -> tuple[str, datetime]:
    """An ETag that changes when any order changes, the day turns, a minute passes (card ages and predicted ship
    dates), the ship-time model is rebuilt, or the view differs; and the start of the shop's day."""
    last_change, time_zone = db.session.connection().execute(_STATE_STATEMENT).one()
    return version_of(filters, viewer_role, last_change, time_zone)


def version_of(filters: BoardFilters, viewer_role: str, last_change: datetime | str | None,
               time_zone: str | None) -> tuple[str, datetime]:
    """board_version from the orders' last change (a datetime, or SQLite's text of one) and the shop's time zone,
    read by the caller."""
    remember_shop_zone(time_zone)
    day_start = start_of_shop_day()
    minute = utcnow().strftime("%Y%m%d%H%M")
    # Predicted ship dates come from a cached model that may be rebuilt without any order changing.
    model = ship_time_model().version
    if isinstance(last_change, datetime):  # as SQLite stores it, so a read straight through the driver agrees
        last_change = last_change.isoformat(" ", "microseconds")
    raw = f"{last_change}|{day_start}|{minute}|{model}|{viewer_role}|{sorted(filters.as_query().items())}"
    return hashlib.sha1(raw.encode()).hexdigest()[:20], day_start
