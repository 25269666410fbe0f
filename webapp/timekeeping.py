"""Times are stored in UTC (naive columns hold UTC) and shown in the shop's time zone."""
import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from sqlalchemy import Date, Interval, case, cast, func, literal, literal_column


def utcnow() -> datetime:
    """The current UTC time as a naive datetime, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def shop_zone() -> ZoneInfo:
    """The shop's time zone: set in the settings, else SHOP_TIMEZONE, else London (read once per request)."""
    if not has_app_context():  # worker helpers, scripts
        return ZoneInfo(os.environ.get("SHOP_TIMEZONE", "Europe/London"))
    zone = g.get("shop_zone")  # one lookup through the proxy: filters ask for it once per card
    if zone is None:
        from webapp.extensions import db
        from webapp.settings.models import ShopSettings

        settings = db.session.get(ShopSettings, 1)
        zone = remember_shop_zone(settings.time_zone if settings else None)
    return zone


def remember_shop_zone(time_zone: str | None) -> ZoneInfo:
    """The shop's zone from the settings' time_zone (None: not set), kept for the rest of the request; for a
    view that read the setting along with other things in one query."""
    zone = g.shop_zone = ZoneInfo(time_zone or current_app.config["SHOP_TIMEZONE"])
    return zone


def shop_today() -> date:
    """Today's date where the shop is, which is what due dates mean."""
    return datetime.now(shop_zone()).date()


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the shop's zone, as naive UTC."""
    zone = shop_zone()

    def start(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start(first), start(last + timedelta(days=1))


def is_postgres() -> bool:
    from webapp.extensions import db

    return db.session.get_bind().dialect.name == "postgresql"


def hours_between_sql(later, earlier, postgres: bool | None = None):
    """SQL for the hours from one UTC timestamp column to another, on PostgreSQL and SQLite alike (on a database of
    the given kind, when called where the request's session is not the one writing)."""
    if is_postgres() if postgres is None else postgres:
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def utc_offsets(start: datetime, end: datetime, zone: ZoneInfo | None = None) -> list[tuple[datetime, int]]:
    """The shop zone's (or ``zone``'s) UTC offset in minutes over [start, end) (naive UTC): [(from, minutes), ...].

    Steps a week at a time and finds each change (daylight saving) to the minute by halving.
    """
    zone = zone or shop_zone()

    def offset(at: datetime) -> int:
        return int(at.replace(tzinfo=UTC).astimezone(zone).utcoffset().total_seconds() // 60)
    changes = [(start, offset(start))]
    step = timedelta(days=7)
    at = start
    while at < end:
        later = min(at + step, end)
        if offset(later) != changes[-1][1]:
            low, high = at, later  # offset(low) is the current one, offset(high) the next
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == changes[-1][1] else (low, middle)
            changes.append((high.replace(second=0, microsecond=0), offset(high)))
        at = later
    return changes


def shop_day_sql(column, start: datetime, end: datetime, zone: ZoneInfo | None = None,
                 postgres: bool | None = None):
    """SQL for the shop-time date of a UTC ``column`` between start and end, daylight saving included (in ``zone``
    on a database of the given kind, when called where the request's session is not the one writing)."""
    changes = utc_offsets(start, end, zone)
    postgres = is_postgres() if postgres is None else postgres

    def shift(minutes: int):
        return minutes if postgres else f"{minutes:+d} minutes"
    if len(changes) == 1:
        minutes = literal(shift(changes[0][1]))
    else:
        minutes = case(*[(column < changes[i + 1][0], shift(changes[i][1])) for i in range(len(changes) - 1)],
                       else_=shift(changes[-1][1]))
    if postgres:
        return cast(column + minutes * literal_column("INTERVAL '1 minute'", type_=Interval), Date)
    return func.date(column, minutes, type_=Date)
