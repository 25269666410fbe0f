"""The activity log (who did what and when): recorded on every flush, read on /activity."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.activity import recording, routes
    from webapp.extensions import db

    app.register_blueprint(routes.bp)
    app.jinja_env.globals.update(changes_text=routes.changes_text)
    recording.install(db.session)
