"""The alerts list and the badge in the navigation that keeps its count up to date."""
from flask import Blueprint
from sqlalchemy import func, select

from webapp.alerts.models import Alert
from webapp.extensions import db
from webapp.views import render_page

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


def open_alert_count() -> int:
    return db.session.scalar(select(func.count(Alert.id)).where(Alert.cleared_at.is_(None)))


@bp.route("")
def list_alerts():
    """Open alerts first, then those cleared lately."""
    open_ones = db.session.scalars(
        select(Alert).where(Alert.cleared_at.is_(None)).order_by(Alert.raised_at.desc()).limit(200)).all()
    cleared = db.session.scalars(
        select(Alert).where(Alert.cleared_at.is_not(None)).order_by(Alert.cleared_at.desc()).limit(30)).all()
    return render_page("alerts/page.html", "alerts/_list.html", open_alerts=open_ones, cleared=cleared)


@bp.route("/badge")
def badge():
    """The number of open alerts, for the navigation (refreshes itself)."""
    return render_page("alerts/page_badge.html", "alerts/_badge.html", count=open_alert_count())
