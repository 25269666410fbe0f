"""keep the dashboard's daily rollups, and note by trigger the shop days whose orders or lines changed

Revision ID: 789737faf958
Revises: 713906b929b8
Create Date: 2026-12-01 16:56:38.005381

The triggers note the day of every order or line written, whichever path writes it (the ORM, bulk inserts, plain
SQL), so the rollups can never silently fall behind (webapp.analytics.daily_sales). SQLite: row triggers, a day noted
once (writers take turns). PostgreSQL: statement triggers with transition tables for inserts and deletes (one per
COPY or multi-row insert, not one per row), row triggers for the updates that matter (the WHEN is checked without
calling the function); a day noted once per transaction, the rebuild forgetting exactly the notes it read. On SQLite
a new order's day is noted by its first line's trigger (see sqlite_triggers).
Existing days are all noted here, so every figure is worked out live until the worker's first rebuild stores them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '789737faf958'
down_revision = '713906b929b8'
branch_labels = None
depends_on = None

# What a daily rollup reads of an order and of a line: a change to another column changes no figure.
ORDER_COLUMNS = ("status", "total", "channel", "shipped_at", "hours_to_ship", "created_at", "shop_day")
LINE_COLUMNS = ("order_id", "product_id", "sku", "name", "quantity", "line_total")
TRIGGERS = {"orders": ("sales_day_of_new_order", "sales_day_of_changed_order", "sales_day_of_removed_order"),
            "order_lines": ("sales_day_of_new_line", "sales_day_of_changed_line", "sales_day_of_removed_line")}
FUNCTIONS = ("note_sales_days_of_orders", "note_sales_days_of_changed_order", "note_sales_days_of_lines",
             "note_sales_days_of_changed_line")


def _changed(columns, distinct="IS NOT"):
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _sqlite_note(day):
    """Note ``day`` (an SQL expression) unless it is NULL or noted already."""
    return (f"INSERT INTO sales_days_changed (shop_day) SELECT {day} WHERE {day} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM sales_days_changed WHERE shop_day = {day});")


def _sqlite_noted(day):
    return f"EXISTS (SELECT 1 FROM sales_days_changed WHERE shop_day = {day})"


def sqlite_triggers():
    # The WHEN skips the body when the day is noted already, as it is for all but a transaction's first write.
    def line_day(row):
        return f"(SELECT shop_day FROM orders WHERE id = {row}.order_id)"
    # No trigger on a new order: any AFTER INSERT trigger on orders costs SQLite a quarter of a history import's CPU
    # (even one whose WHEN is never true), and every order is stored with its lines (intake, webhooks and imports
    # refuse one without), whose trigger notes its day.
    return [
        f"""CREATE TRIGGER sales_day_of_changed_order AFTER UPDATE OF {", ".join(ORDER_COLUMNS)} ON orders
            WHEN {_changed(ORDER_COLUMNS)}
            BEGIN {_sqlite_note("OLD.shop_day")} {_sqlite_note("NEW.shop_day")} END""",
        f"""CREATE TRIGGER sales_day_of_removed_order AFTER DELETE ON orders
            WHEN OLD.shop_day IS NOT NULL AND NOT {_sqlite_noted("OLD.shop_day")}
            BEGIN INSERT INTO sales_days_changed (shop_day) VALUES (OLD.shop_day); END""",
        f"""CREATE TRIGGER sales_day_of_new_line AFTER INSERT ON order_lines
            WHEN NOT {_sqlite_noted(line_day("NEW"))} BEGIN {_sqlite_note(line_day("NEW"))} END""",
        f"""CREATE TRIGGER sales_day_of_changed_line AFTER UPDATE OF {", ".join(LINE_COLUMNS)} ON order_lines
            WHEN {_changed(LINE_COLUMNS)}
            BEGIN {_sqlite_note(line_day("OLD"))} {_sqlite_note(line_day("NEW"))} END""",
        f"""CREATE TRIGGER sales_day_of_removed_line AFTER DELETE ON order_lines
            WHEN NOT {_sqlite_noted(line_day("OLD"))} BEGIN {_sqlite_note(line_day("OLD"))} END""",
    ]


def _postgres_function(name, days_select):
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO sales_days_changed (shop_day, changed_in)
            SELECT DISTINCT day, txid_current() FROM ({days_select}) AS days
            WHERE day IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM sales_days_changed n WHERE n.shop_day = days.day AND n.changed_in = txid_current());
            RETURN NULL;
        END $$"""


def postgres_triggers():
    return [
        _postgres_function("note_sales_days_of_orders", "SELECT shop_day AS day FROM changed_orders"),
        _postgres_function("note_sales_days_of_changed_order",
                           "SELECT day FROM (VALUES (OLD.shop_day), (NEW.shop_day)) AS d (day)"),
        _postgres_function("note_sales_days_of_lines", "SELECT o.shop_day AS day FROM changed_lines l "
                                                        "JOIN orders o ON o.id = l.order_id"),
        _postgres_function("note_sales_days_of_changed_line", "SELECT shop_day AS day FROM orders "
                                                              "WHERE id IN (OLD.order_id, NEW.order_id)"),
        """CREATE TRIGGER sales_day_of_new_order AFTER INSERT ON orders REFERENCING NEW TABLE AS changed_orders
           FOR EACH STATEMENT EXECUTE FUNCTION note_sales_days_of_orders()""",
        f"""CREATE TRIGGER sales_day_of_changed_order AFTER UPDATE OF {", ".join(ORDER_COLUMNS)} ON orders
            FOR EACH ROW WHEN ({_changed(ORDER_COLUMNS, "IS DISTINCT FROM")})
            EXECUTE FUNCTION note_sales_days_of_changed_order()""",
        """CREATE TRIGGER sales_day_of_removed_order AFTER DELETE ON orders REFERENCING OLD TABLE AS changed_orders
           FOR EACH STATEMENT EXECUTE FUNCTION note_sales_days_of_orders()""",
        """CREATE TRIGGER sales_day_of_new_line AFTER INSERT ON order_lines REFERENCING NEW TABLE AS changed_lines
           FOR EACH STATEMENT EXECUTE FUNCTION note_sales_days_of_lines()""",
        f"""CREATE TRIGGER sales_day_of_changed_line AFTER UPDATE OF {", ".join(LINE_COLUMNS)} ON order_lines
            FOR EACH ROW WHEN ({_changed(LINE_COLUMNS, "IS DISTINCT FROM")})
            EXECUTE FUNCTION note_sales_days_of_changed_line()""",
        """CREATE TRIGGER sales_day_of_removed_line AFTER DELETE ON order_lines REFERENCING OLD TABLE AS changed_lines
           FOR EACH STATEMENT EXECUTE FUNCTION note_sales_days_of_lines()""",
    ]


def upgrade():
    op.create_table('daily_product_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_day', sa.Date(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_product_sales'))
    )
    with op.batch_alter_table('daily_product_sales', schema=None) as batch_op:
        batch_op.create_index('ix_daily_product_sales_day', ['shop_day', 'sku', 'product_id', 'units', 'revenue',
                                                             'name'], unique=False)

    op.create_table('daily_sales',
    sa.Column('shop_day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('earning_orders', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('shipped_orders', sa.Integer(), nullable=False),
    sa.Column('hours_to_ship', sa.Double(), nullable=False),
    sa.Column('unknown_hours', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('left_pending', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('shipped_or_later', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('shop_day', 'channel', name=op.f('pk_daily_sales'))
    )
    op.create_table('sales_days_changed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_day', sa.Date(), nullable=False),
    sa.Column('changed_in', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_days_changed'))
    )
    with op.batch_alter_table('sales_days_changed', schema=None) as batch_op:
        batch_op.create_index('ix_sales_days_changed_day', ['shop_day', 'changed_in'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_day_unknown', ['shop_day', 'created_at'], unique=False,
                              sqlite_where=sa.text('shop_day IS NULL'), postgresql_where=sa.text('shop_day IS NULL'))

    op.execute("INSERT INTO sales_days_changed (shop_day) SELECT DISTINCT shop_day FROM orders "
               "WHERE shop_day IS NOT NULL")
    for statement in postgres_triggers() if op.get_bind().dialect.name == "postgresql" else sqlite_triggers():
        op.execute(statement)


def downgrade():
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if op.get_bind().dialect.name == "postgresql"
                       else f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_day_unknown', sqlite_where=sa.text('shop_day IS NULL'),
                            postgresql_where=sa.text('shop_day IS NULL'))

    with op.batch_alter_table('sales_days_changed', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_days_changed_day')

    op.drop_table('sales_days_changed')
    op.drop_table('daily_sales')
    with op.batch_alter_table('daily_product_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_product_sales_day')

    op.drop_table('daily_product_sales')
