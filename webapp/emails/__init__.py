"""Email: the outbox, its delivery jobs, and the page that shows what was sent or failed."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.emails import routes

    app.register_blueprint(routes.bp)
