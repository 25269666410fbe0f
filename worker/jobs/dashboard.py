"""Keeping the dashboard's daily rollups current (webapp.analytics.daily_sales)."""
from worker.app import job_context


def store_changed_sales_days() -> int:
    """Store the rollups of the shop days whose orders changed since the last run; returns how many days.

    The dashboard is exact without this (it works changed days out live); this keeps it fast.
    """
    from webapp.analytics.daily_sales import rebuild_changed_days
    from webapp.extensions import db

    with job_context():
        days = rebuild_changed_days()
        db.session.commit()
        return days
