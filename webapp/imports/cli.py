"""`flask orders import FILE --format shopify|woocommerce|generic [--history] [--dry-run] [--map FIELD=COLUMN ...]`."""
import signal
import threading
import time
from contextlib import contextmanager

import click
from sqlalchemy import select

from webapp.background.dispatch import dispatch_pending
from webapp.exports.routes import csv_lines
from webapp.extensions import db
from webapp.imports.formats import FORMATS, MappingError, parse_mapping_options
from webapp.imports.importing import import_orders
from webapp.imports.interrupted import end_killed_command_runs, report_alive, this_command, where_orders_begin
from webapp.imports.models import ColumnMapping
from webapp.imports.reading import count_rows
from webapp.imports.runs import fail_run, finish_run, record_run

SHOWN_ERRORS = 20


@contextmanager
def stopping_as_ctrl_c():
    """A kill (SIGTERM) or a closed terminal (SIGHUP) stops the import as Ctrl-C does, not the process on the spot:
    it then works out the figures of what it stored (importing.fill_after_stop) and ends its run as failed."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread alone
        yield
        return

    def stop(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    before = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@click.group()
def orders():
    """Orders from files."""


@orders.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="generic", show_default=True,
              help="Whose export the file is; decides the usual column names.")
@click.option("--history", is_flag=True,
              help="Past orders: keep their dates and statuses, touch no stock, create unknown products.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, write nothing; show a preview.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Which column holds a field (repeatable), e.g. --map sku='Item code'.")
@click.option("--mapping", "preset", help="A saved column mapping preset, by name (--map overrides it).")
@click.option("--save-mapping", "save_as", help="Save the --format and --map given here as a preset of this name.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, writable=True),
              help="Write every skipped row (line, order, reason) to this CSV file.")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar (click shows none either when the output is not a terminal).")
def import_command(file, fmt, history, dry_run, maps, preset, save_as, errors_path, quiet):
    """Import orders from a CSV file, one row per line item."""
    columns = {}
    if preset:
        saved = db.session.scalar(select(ColumnMapping).where(ColumnMapping.name == preset))
        if saved is None:
            raise click.ClickException(f"no saved mapping called '{preset}'")
        columns.update(saved.columns)
        fmt = saved.format if fmt == "generic" else fmt
    try:
        columns.update(parse_mapping_options(maps))
    except MappingError as error:
        raise click.ClickException(str(error)) from None
    total_rows = count_rows(file)
    end_killed_command_runs()  # an import killed before this one ends with its figures worked out
    run_id = None
    if not dry_run:  # on record as the page's runs are, running while this command works
        run = record_run(file, fmt, history=history, dry_run=False, columns=columns, actor="cli",
                         total_rows=total_rows)
        run.state, run.summary = "running", {**run.summary, **where_orders_begin(), **this_command()}
        db.session.commit()
        run_id = run.id
    started = time.perf_counter()
    try:
        with stopping_as_ctrl_c(), click.progressbar(length=total_rows, label="Importing rows", show_pos=True,
                                                     show_eta=True, hidden=quiet) as bar:
            def progress(done: int) -> None:
                bar.update(done - bar.pos)
                if run_id is not None:
                    report_alive(run_id, done)

            summary = import_orders(file, fmt, history=history, dry_run=dry_run, columns=columns,
                                    progress=progress)
    except BaseException as error:  # Ctrl-C too: the run must not stay 'running'
        if run_id is not None:
            fail_run(run_id, error)
        if isinstance(error, ValueError):  # a missing column, a file that is no CSV
            raise click.ClickException(str(error)) from None
        raise
    elapsed = time.perf_counter() - started
    if not history and not dry_run:
        dispatch_pending()  # invoices and other work the live orders scheduled
    if run_id is not None:
        finish_run(run_id, summary)
    if save_as and not dry_run:
        saved = db.session.scalar(select(ColumnMapping).where(ColumnMapping.name == save_as))
        if saved is None:
            saved = ColumnMapping(name=save_as)
            db.session.add(saved)
        saved.format, saved.columns = fmt, columns
        db.session.commit()
    if dry_run:
        click.echo("Dry run, nothing written. First orders:")
        for order in summary.preview:
            items = ", ".join(f"{line['quantity']} × {line['sku']}" for line in order["lines"])
            click.echo(f"  {order['number']} (line {order['line']}) {order['date']} {order['customer']}: "
                       f"{items}; {order['status']}, total {order['total']}")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {summary.describe()} in {elapsed:.1f} s.")
    for error in summary.errors[:SHOWN_ERRORS]:
        click.echo(f"  line {error.line}: {error.reason}")
    if summary.error_count > SHOWN_ERRORS:
        click.echo(f"  ... and {summary.error_count - SHOWN_ERRORS} more" +
                   ("" if errors_path else "; --errors FILE writes them all"))
    if errors_path:
        with open(errors_path, "w", newline="", encoding="utf-8") as out:
            rows = ([e.line, e.number, e.reason] for e in summary.errors)
            out.writelines(csv_lines(["line", "order", "reason"], rows))
