"""Command-line tools: users, tokens, setup token, demo seed."""
from sqlalchemy import func, select

from tests.test_stock_ledger import assert_ledger_matches
from webapp.auth.models import ApiToken, User
from webapp.extensions import db
from webapp.models import Customer, Order, Product


def test_users_create(runner):
    result = runner.invoke(args=["users", "create", "--email", "Me@Shop.example", "--password", "long enough pw",
                                 "--role", "staff"])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert (user.email, user.role) == ("me@shop.example", "staff") and user.check_password("long enough pw")
    again = runner.invoke(args=["users", "create", "--email", "me@shop.example", "--password", "long enough pw"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_users_create_refuses_bad_input(runner):
    create = ["users", "create", "--email"]
    assert "--email" in runner.invoke(args=[*create, "nope", "--password", "long enough pw"]).output
    assert "--password" in runner.invoke(args=[*create, "a@b.example", "--password", "short"]).output
    assert "--role" in runner.invoke(args=["users", "create", "--email", "a@b.example", "--password", "long enough pw",
                                           "--role", "king"]).output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_tokens_create_prints_the_token_once_on_the_last_line(runner, make_user, client):
    make_user(email="owner@example.com")
    result = runner.invoke(args=["tokens", "create", "--email", "owner@example.com", "--scopes", "orders:read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    token = db.session.scalars(select(ApiToken)).one()
    assert secret.startswith("soms_") and secret not in token.token_hash and token.scopes == "orders:read"
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.post("/api/v1/orders", json={}, headers={"Authorization": f"Bearer {secret}"}).status_code == 403


def test_tokens_create_refuses_unknown_user_or_scope(runner, make_user):
    assert "no user" in runner.invoke(args=["tokens", "create", "--email", "ghost@example.com"]).output
    make_user(email="owner@example.com")
    result = runner.invoke(args=["tokens", "create", "--email", "owner@example.com", "--scopes", "everything"])
    assert result.exit_code != 0 and "unknown scope" in result.output


def test_setup_token_only_while_there_is_no_user(runner, make_user):
    token = runner.invoke(args=["users", "setup-token"]).output.strip()
    assert len(token) >= 20
    make_user()
    assert "already a user" in runner.invoke(args=["users", "setup-token"]).output


def test_demo_seed_makes_a_consistent_shop_once(runner):
    result = runner.invoke(args=["demo", "seed", "--if-empty", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Product.id))) == 19
    assert db.session.scalar(select(func.count(Customer.id))) > 20
    orders = db.session.scalar(select(func.count(Order.id)))
    assert f"{orders} orders" in result.output
    statuses = set(db.session.scalars(select(Order.status)))
    assert {"confirmed", "processing", "shipped", "delivered", "cancelled"} <= statuses
    assert_ledger_matches()
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "skipped" in again.output
    assert db.session.scalar(select(func.count(Order.id))) == orders


def test_db_upgrade_at_head_is_a_no_op(runner):
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    config = runner.app.extensions["migrate"].migrate.get_config()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert current == tuple(ScriptDirectory.from_config(config).get_heads())
