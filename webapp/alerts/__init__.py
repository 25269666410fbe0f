"""Alerts: low stock, overdue orders and failed jobs, raised by periodic scans and shown in the app."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.alerts import routes

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["open_alert_count"] = routes.open_alert_count
