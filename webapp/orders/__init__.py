"""Orders: the entry form, the list, the order page and its actions."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.orders import routes, ship_dates

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["predict_ship"] = ship_dates.predict_ship
