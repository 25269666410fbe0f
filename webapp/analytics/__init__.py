"""Sales analytics: the KPIs of any date range, computed in SQL, on the dashboard and the API."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.analytics import routes

    app.register_blueprint(routes.bp)
