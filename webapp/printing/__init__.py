"""Printing many orders at once: invoices or packing slips in one PDF, made by the worker."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.printing import routes

    app.register_blueprint(routes.bp)
