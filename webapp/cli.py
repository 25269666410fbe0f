"""Command-line groups that are not owned by one feature: `flask demo seed`."""
import click
from flask import Flask

from webapp.demo_shop import seed_demo_shop, shop_is_empty


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)


@click.group()
def demo():
    """A demo shop to try things with."""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the shop already has products or orders.")
@click.option("--orders", "order_count", default=40, show_default=True, help="How many recent orders to create.")
def seed(if_empty: bool, order_count: int):
    """Fill the database with a small believable shop: products, stock, customers and orders in every status."""
    if if_empty and not shop_is_empty():
        click.echo("The shop already has data; demo seed skipped.")
        return
    summary = seed_demo_shop(order_count=order_count)
    click.echo(f"Demo shop ready: {summary['products']} products, {summary['customers']} customers, "
               f"{summary['orders']} orders.")
