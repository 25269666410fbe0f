"""Customers: the list, and each customer's details and orders."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.customers import insight, routes
    from webapp.extensions import db

    app.register_blueprint(routes.bp)
    with app.app_context():
        insight.install_sqlite_functions(db.engine)
