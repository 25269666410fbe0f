"""index orders by date and by customer and date for the dashboard

Revision ID: 8d25219ca357
Revises: c77ff013f087
Create Date: 2026-11-22 06:27:28.738299

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d25219ca357'
down_revision = 'c77ff013f087'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed by hand: plain indexes, no data change. A date range of orders (the dashboard's every query) and a
    # customer's orders in time order, with status and total so that a customer's history is summed from the index
    # alone (repeat customers, unusual order sizes).
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_orders_customer_created', ['customer_id', 'created_at', 'status', 'total'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_customer_created')
        batch_op.drop_index('ix_orders_created_at')
