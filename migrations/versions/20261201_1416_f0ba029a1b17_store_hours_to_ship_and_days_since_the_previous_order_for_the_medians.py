"""store each order's hours to ship and days since the customer's previous order, for the dashboard's medians

Revision ID: f0ba029a1b17
Revises: b64b4d8d404d
Create Date: 2026-12-01 14:46:40.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f0ba029a1b17'
down_revision = 'b64b4d8d404d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_order_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('days_since_previous_order', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('hours_to_ship', sa.Double(), nullable=True))
    fill()
    # Filled before indexing, so each index is built once.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_sales'))
        batch_op.create_index('ix_orders_sales', ['created_at', 'status', 'total', 'customer_id', 'shipped_at',
                                                  'channel', 'shop_day', 'earlier_orders', 'earlier_total',
                                                  'hours_to_ship', 'previous_order_at', 'days_since_previous_order'],
                              unique=False)
        batch_op.create_index('ix_orders_days_since_previous', ['days_since_previous_order', 'previous_order_at',
                                                                'created_at', 'status'], unique=False,
                              sqlite_where=sa.text('days_since_previous_order IS NOT NULL'),
                              postgresql_where=sa.text('days_since_previous_order IS NOT NULL'))
        batch_op.create_index('ix_orders_hours_to_ship', ['hours_to_ship', 'created_at'], unique=False,
                              sqlite_where=sa.text('hours_to_ship IS NOT NULL'),
                              postgresql_where=sa.text('hours_to_ship IS NOT NULL'))
        batch_op.create_index('ix_orders_hours_unknown', ['hours_to_ship', 'created_at'], unique=False,
                              sqlite_where=sa.text('shipped_at IS NOT NULL AND hours_to_ship IS NULL'),
                              postgresql_where=sa.text('shipped_at IS NOT NULL AND hours_to_ship IS NULL'))


def fill():
    """Existing orders' values (left NULL they would still be right, only slower to read)."""
    if op.get_bind().dialect.name == "postgresql":
        def hours(later, earlier):
            return f"extract(epoch FROM {later} - {earlier}) / 3600.0"
    else:
        def hours(later, earlier):
            return f"(julianday({later}) - julianday({earlier})) * 24.0"
    op.execute(f"UPDATE orders SET hours_to_ship = {hours('shipped_at', 'created_at')} WHERE shipped_at IS NOT NULL")
    # Only where the earlier orders are worked out: a NULL there marks the customer's later orders to work out again.
    op.execute(f"""
        UPDATE orders SET previous_order_at = previous.at,
                          days_since_previous_order = {hours('orders.created_at', 'previous.at')} / 24.0
        FROM (SELECT id, max(CASE WHEN status NOT IN ('cancelled', 'rejected') THEN created_at END)
                         OVER (PARTITION BY customer_id ORDER BY created_at, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS at
              FROM orders) AS previous
        WHERE orders.id = previous.id AND orders.earlier_orders IS NOT NULL""")


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_hours_unknown',
                            sqlite_where=sa.text('shipped_at IS NOT NULL AND hours_to_ship IS NULL'),
                            postgresql_where=sa.text('shipped_at IS NOT NULL AND hours_to_ship IS NULL'))
        batch_op.drop_index('ix_orders_hours_to_ship', sqlite_where=sa.text('hours_to_ship IS NOT NULL'),
                            postgresql_where=sa.text('hours_to_ship IS NOT NULL'))
        batch_op.drop_index('ix_orders_days_since_previous',
                            sqlite_where=sa.text('days_since_previous_order IS NOT NULL'),
                            postgresql_where=sa.text('days_since_previous_order IS NOT NULL'))
        batch_op.drop_index('ix_orders_sales')
        batch_op.create_index(batch_op.f('ix_orders_sales'), ['created_at', 'status', 'total', 'customer_id',
                                                               'shipped_at', 'channel', 'shop_day', 'earlier_orders',
                                                               'earlier_total'], unique=False)
        batch_op.drop_column('hours_to_ship')
        batch_op.drop_column('days_since_previous_order')
        batch_op.drop_column('previous_order_at')
