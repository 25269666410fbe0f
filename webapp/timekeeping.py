"""Times are stored in UTC (naive columns hold UTC) and shown in the shop's time zone."""
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current UTC time as a naive datetime, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def shop_zone() -> ZoneInfo:
    """The shop's time zone: set in the settings, else SHOP_TIMEZONE, else London (read once per request)."""
    from flask import current_app, g, has_app_context

    if not has_app_context():  # worker helpers, scripts
        return ZoneInfo(os.environ.get("SHOP_TIMEZONE", "Europe/London"))
    if "shop_zone" not in g:
        from webapp.extensions import db
        from webapp.settings.models import ShopSettings

        settings = db.session.get(ShopSettings, 1)
        g.shop_zone = ZoneInfo((settings.time_zone if settings else None) or current_app.config["SHOP_TIMEZONE"])
    return g.shop_zone


def shop_today() -> date:
    """Today's date where the shop is, which is what due dates mean."""
    return datetime.now(shop_zone()).date()
