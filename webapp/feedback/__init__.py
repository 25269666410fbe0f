"""Customer feedback: after delivery, a signed link to a public page where the customer rates the order."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.feedback import routes

    app.register_blueprint(routes.bp)
