"""Solo OMS: the application factory."""
import os

from flask import Flask

from webapp import config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; nothing connects to the database or Redis until a request or command needs it."""
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates")
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", config.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    # While SECRET_KEY is rotated, sessions signed with an old key still open (Flask tries the fallbacks).
    app.config["SECRET_KEY_FALLBACKS"] = list(app.config["OLD_SECRET_KEYS"])
    if app.config["TRUSTED_PROXY_COUNT"]:
        # Behind a reverse proxy: believe its X-Forwarded-* headers (client address for the login limit).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from webapp import extensions, models, sqlite_locking  # noqa: F401 - models registers the schema

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=os.path.join(app.root_path, "..", "migrations"))
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.limiter.init_app(app)
    with app.app_context():
        sqlite_locking.install(extensions.db.engine)

    from webapp import (
        activity,
        alerts,
        analytics,
        api,
        assets,
        auth,
        background,
        backups,
        board,
        catalog,
        customers,
        emails,
        errors,
        exports,
        feedback,
        forecasting,
        health,
        imports,
        invoices,
        jobs,
        logs,
        metrics,
        orders,
        people,
        printing,
        security_headers,
        settings,
        views,
        webhooks,
        webhooks_out,
    )

    # metrics first: its timer starts before any other request hook; errors' checks run before the sign-in gate.
    parts = (metrics, logs, security_headers, errors, auth, views, assets, catalog, customers, orders, board,
             settings, api, health, emails, invoices, alerts, jobs, printing, analytics, forecasting, feedback,
             background, exports, webhooks, webhooks_out, imports, backups, people, activity)
    for part in parts:
        part.init_app(app)

    from webapp import cli

    cli.init_app(app)
    return app
