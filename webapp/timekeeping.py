"""Times are stored in UTC (naive columns hold UTC) and shown in the shop's time zone."""
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current UTC time as a naive datetime, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def shop_zone() -> ZoneInfo:
    """The shop's time zone: the app's SHOP_TIMEZONE, else the environment's, else London."""
    try:
        from flask import current_app

        name = current_app.config["SHOP_TIMEZONE"]
    except RuntimeError:  # outside an app (worker helpers, scripts)
        name = os.environ.get("SHOP_TIMEZONE", "Europe/London")
    return ZoneInfo(name)


def shop_today() -> date:
    """Today's date where the shop is, which is what due dates mean."""
    return datetime.now(shop_zone()).date()
