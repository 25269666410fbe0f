"""Products and stock: the catalogue, receiving and adjusting stock, and the ledger."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.catalog import routes

    app.register_blueprint(routes.bp)
