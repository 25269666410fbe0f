"""Exports (the owner, and the accountant with a viewer account): the shop's records for a date range as CSV,
and the accountant's invoice summary."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.exports import routes

    app.register_blueprint(routes.bp)
