"""Invoices, credit notes and their PDFs."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.invoices import routes

    app.register_blueprint(routes.bp)
