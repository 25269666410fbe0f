"""Orders: the entry form, the list, the order page and its actions."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.orders import routes

    app.register_blueprint(routes.bp)
