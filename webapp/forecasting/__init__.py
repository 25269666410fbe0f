"""Demand forecasts per product, turned into reorder advice; unusual sales days."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.forecasting import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.forecast)
