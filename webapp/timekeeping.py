"""Times are stored in UTC (naive columns hold UTC) and shown in the shop's time zone."""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time as a naive datetime, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)
