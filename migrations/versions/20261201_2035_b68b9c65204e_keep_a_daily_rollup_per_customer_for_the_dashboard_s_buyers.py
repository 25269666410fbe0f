"""keep a daily rollup per customer for the dashboard's buyers, and note an order's days when it moves to another customer

Revision ID: b68b9c65204e
Revises: 38f958860c81
Create Date: 2026-12-01 20:35:00.000000

The table is filled here from the orders (a day noted as changed is worked out live anyway until the worker's next
rebuild stores it again). The trigger on changed orders now also fires when an order's customer changes, which
changes no other rollup but this one's.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b68b9c65204e'
down_revision = '38f958860c81'
branch_labels = None
depends_on = None

# As in 789737faf958, and with customer_id.
OLD_ORDER_COLUMNS = ("status", "total", "channel", "shipped_at", "hours_to_ship", "created_at", "shop_day")
ORDER_COLUMNS = (*OLD_ORDER_COLUMNS, "customer_id")


def _changed(columns, distinct="IS NOT"):
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _sqlite_note(day):
    return (f"INSERT INTO sales_days_changed (shop_day) SELECT {day} WHERE {day} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM sales_days_changed WHERE shop_day = {day});")


def _changed_order_trigger(columns):
    """The trigger of 789737faf958 noting an order's old and new days, on columns."""
    if op.get_bind().dialect.name == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS sales_day_of_changed_order ON orders",
            f"""CREATE TRIGGER sales_day_of_changed_order AFTER UPDATE OF {", ".join(columns)} ON orders
                FOR EACH ROW WHEN ({_changed(columns, "IS DISTINCT FROM")})
                EXECUTE FUNCTION note_sales_days_of_changed_order()""",
        ]
    return [
        "DROP TRIGGER IF EXISTS sales_day_of_changed_order",
        f"""CREATE TRIGGER sales_day_of_changed_order AFTER UPDATE OF {", ".join(columns)} ON orders
            WHEN {_changed(columns)}
            BEGIN {_sqlite_note("OLD.shop_day")} {_sqlite_note("NEW.shop_day")} END""",
    ]


def upgrade():
    op.create_table('daily_customer_sales',
    sa.Column('shop_day', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('spent', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('shop_day', 'customer_id', name=op.f('pk_daily_customer_sales'))
    )
    with op.batch_alter_table('daily_customer_sales', schema=None) as batch_op:
        batch_op.create_index('ix_daily_customer_sales_day', ['shop_day', 'customer_id', 'orders', 'spent'],
                              unique=False)
    op.execute("INSERT INTO daily_customer_sales (shop_day, customer_id, orders, spent) "
               "SELECT shop_day, customer_id, count(id), sum(total) FROM orders "
               "WHERE shop_day IS NOT NULL AND status NOT IN ('cancelled', 'rejected') GROUP BY shop_day, customer_id")
    for statement in _changed_order_trigger(ORDER_COLUMNS):
        op.execute(statement)


def downgrade():
    for statement in _changed_order_trigger(OLD_ORDER_COLUMNS):
        op.execute(statement)
    with op.batch_alter_table('daily_customer_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_customer_sales_day')
    op.drop_table('daily_customer_sales')
