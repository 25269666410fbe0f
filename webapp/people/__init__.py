"""People: the owner's user management page and everyone's own API tokens page."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.people import api_tokens, sign_ins, users

    app.register_blueprint(users.bp)
    app.register_blueprint(api_tokens.bp)
    sign_ins.init_app(app)
