"""Backups: a consistent, compressed copy of the database while orders keep coming in, checked by a restore."""
from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.backups import cli

    app.cli.add_command(cli.backup)
    app.cli.add_command(cli.restore)
    app.jinja_env.globals["latest_backup"] = _latest_backup


def _latest_backup():
    from webapp.backups.service import latest_backup

    return latest_backup()
