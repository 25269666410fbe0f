"""keep each order's earlier orders (count and total) for the unusual-orders check

Revision ID: b64b4d8d404d
Revises: 4c2a7fa648b3
Create Date: 2026-12-01 14:40:19.379680

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b64b4d8d404d'
down_revision = '4c2a7fa648b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('earlier_orders', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('earlier_total', sa.Numeric(precision=14, scale=2), nullable=True))
    fill_earlier_orders()
    # Filled before indexing, so each index is built once rather than kept through a million updates.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_sales'))
        batch_op.create_index('ix_orders_sales', ['created_at', 'status', 'total', 'customer_id', 'shipped_at',
                                                  'channel', 'shop_day', 'earlier_orders', 'earlier_total'],
                              unique=False)
        batch_op.create_index('ix_orders_earlier_unknown', ['earlier_orders', 'customer_id', 'created_at'], unique=False,
                              sqlite_where=sa.text('earlier_orders IS NULL'),
                              postgresql_where=sa.text('earlier_orders IS NULL'))


def fill_earlier_orders():
    """Every order's earlier orders in one window over each customer's history (left NULL they would still be
    right, only slower to read). UPDATE ... FROM: PostgreSQL, and SQLite from 3.33."""
    earning = "status NOT IN ('cancelled', 'rejected')"
    before_each = ("OVER (PARTITION BY customer_id ORDER BY created_at, id "
                   "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)")
    op.execute(f"""
        UPDATE orders SET earlier_orders = running.earlier_orders, earlier_total = running.earlier_total
        FROM (SELECT id, count(CASE WHEN {earning} THEN id END) {before_each} AS earlier_orders,
                     coalesce(sum(CASE WHEN {earning} THEN total END) {before_each}, 0) AS earlier_total
              FROM orders) AS running
        WHERE orders.id = running.id""")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_earlier_unknown', sqlite_where=sa.text('earlier_orders IS NULL'),
                            postgresql_where=sa.text('earlier_orders IS NULL'))
        batch_op.drop_index('ix_orders_sales')
        batch_op.create_index(batch_op.f('ix_orders_sales'), ['created_at', 'status', 'total', 'customer_id',
                                                               'shipped_at', 'channel', 'shop_day'], unique=False)
        batch_op.drop_column('earlier_total')
        batch_op.drop_column('earlier_orders')
