"""`flask --app wsgi backup` and `flask --app wsgi restore FILE`."""
import os

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.backups.service import BackupError, check_backup_file, restore_backup, take_backup


def _size(size: int | None) -> str:
    size = float(size or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@click.command("backup")
@with_appcontext
def backup():
    """Copy the database into BACKUP_DIR while the shop keeps running, then check the copy by restoring it."""
    record = take_backup()
    if record.error:
        raise click.ClickException(record.error)
    click.echo(f"Backup {os.path.join(current_app.config['BACKUP_DIR'], record.file_name)} "
               f"({_size(record.size_bytes)}, {sum(record.row_counts.values())} rows in "
               f"{len(record.row_counts)} tables), verified by a restore.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(file: str, yes: bool):
    """Replace everything in the configured database with the contents of a backup FILE."""
    from webapp.extensions import db

    try:
        check_backup_file(file)
        if not yes:
            click.confirm(f"Replace everything in {db.engine.url.render_as_string(hide_password=True)} with "
                          f"{os.path.basename(file)}?", abort=True)
        restore_backup(file)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {os.path.basename(file)}.")
