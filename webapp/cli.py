"""Command-line groups that are not owned by one feature: `flask demo seed`."""
import time

import click
from flask import Flask

from webapp.demo_shop import DEFAULT_SEED, HISTORY_DAYS, seed_demo_shop, shop_is_empty


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)


@click.group()
def demo():
    """A demo shop to try things with."""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the shop already has products or orders.")
@click.option("--days", default=HISTORY_DAYS, show_default=True, type=click.IntRange(min=14),
              help="How many days of history, ending today.")
@click.option("--seed", "seed", default=DEFAULT_SEED, show_default=True, help="The same seed gives the same shop.")
def seed(if_empty: bool, days: int, seed: int):
    """Fill the database with a believable ceramics shop: products, stock, customers and daily orders up to today."""
    if not shop_is_empty():
        if if_empty:
            click.echo("The shop already has data; demo seed skipped.")
            return
        raise click.ClickException("The shop already has products or orders; the demo seed fills an empty shop.")
    started = time.perf_counter()
    summary = seed_demo_shop(days=days, seed=seed)
    click.echo(f"Demo shop ready: {summary['products']} products, {summary['customers']} customers, "
               f"{summary['orders']} orders with {summary['lines']} lines over {days} days "
               f"({time.perf_counter() - started:.1f} s).")
