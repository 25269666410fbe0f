"""The shop's settings page."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.settings import routes

    app.register_blueprint(routes.bp)
