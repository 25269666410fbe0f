"""The live board: a column per active status, refreshed cheaply with conditional requests."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.board import polls, routes

    app.register_blueprint(routes.bp)
    polls.init_app(app)
