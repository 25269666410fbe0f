"""Customers: the list, and each customer's details and orders."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.customers import routes

    app.register_blueprint(routes.bp)
