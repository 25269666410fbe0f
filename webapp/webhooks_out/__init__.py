"""Webhooks out: signed POSTs to the owner's URLs when orders come in or change and when stock runs low."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.webhooks_out import routes

    app.register_blueprint(routes.bp)
