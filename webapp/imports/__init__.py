"""Importing orders from a shop's CSV file (Shopify, WooCommerce or any file with a column mapping)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.imports import cli, routes

    app.register_blueprint(routes.bp)
    # Onto the request class the extensions chose (htmx-flask's), not in place of it.
    app.request_class = type("ImportUploadRequest", (routes.ImportUploadLimit, app.request_class), {})

    app.cli.add_command(cli.orders)
