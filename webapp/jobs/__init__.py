"""The jobs page: what the workers have queued, are running, or could not finish."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.jobs import routes

    app.register_blueprint(routes.bp)
