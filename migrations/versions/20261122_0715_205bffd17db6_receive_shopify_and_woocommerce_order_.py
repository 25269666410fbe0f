"""Receive Shopify and WooCommerce order webhooks: their secrets and one row per platform order

Revision ID: 205bffd17db6
Revises: 8d25219ca357
Create Date: 2026-11-22 07:15:52.445607

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '205bffd17db6'
down_revision = '8d25219ca357'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform_order_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_channel_orders_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_orders')),
    sa.UniqueConstraint('channel', 'platform_order_id', name='uq_channel_orders_channel_platform_id')
    )
    with op.batch_alter_table('channel_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_orders_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        # Nullable: no secret set means every delivery is refused (401), so no server default is needed.
        batch_op.add_column(sa.Column('shopify_webhook_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('woocommerce_webhook_secret', sa.String(length=200), nullable=True))



def downgrade():
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('woocommerce_webhook_secret')
        batch_op.drop_column('shopify_webhook_secret')

    with op.batch_alter_table('channel_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_orders_order_id'))

    op.drop_table('channel_orders')
