"""Webhooks in: orders pushed by Shopify and WooCommerce, verified by HMAC before anything is read."""
from flask import Flask

from webapp.extensions import csrf


def init_app(app: Flask) -> None:
    from webapp.webhooks import routes

    csrf.exempt(routes.bp)  # signed by the platform, no cookies: CSRF does not apply
    app.register_blueprint(routes.bp)
