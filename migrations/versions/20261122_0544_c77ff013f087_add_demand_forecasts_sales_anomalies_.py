"""add demand forecasts, sales anomalies, order feedback and reorder settings

Revision ID: c77ff013f087
Revises: 0eefe005fa95
Create Date: 2026-11-22 05:44:45.982580

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c77ff013f087'
down_revision = '0eefe005fa95'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed by hand: the new settings columns get server defaults so the existing settings row fills in.
    op.create_table('sales_anomalies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('measure', sa.String(length=16), nullable=False),
    sa.Column('actual', sa.Float(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('lower', sa.Float(), nullable=False),
    sa.Column('upper', sa.Float(), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_anomalies')),
    sa.UniqueConstraint('day', 'measure', name=op.f('uq_sales_anomalies_day'))
    )
    op.create_table('demand_forecasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('model', sa.String(length=32), nullable=False),
    sa.Column('model_note', sa.Text(), nullable=False),
    sa.Column('history_days', sa.Integer(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('backtest_mae', sa.Float(), nullable=True),
    sa.Column('backtest_mase', sa.Float(), nullable=True),
    sa.Column('baseline_mae', sa.Float(), nullable=True),
    sa.Column('baseline_mase', sa.Float(), nullable=True),
    sa.Column('demand_shift', sa.Float(), nullable=True),
    sa.Column('backtested_on', sa.Date(), nullable=True),
    sa.Column('available_at_run', sa.Integer(), nullable=False),
    sa.Column('stockout_date', sa.Date(), nullable=True),
    sa.Column('stockout_earliest', sa.Date(), nullable=True),
    sa.Column('stockout_latest', sa.Date(), nullable=True),
    sa.Column('reorder_by', sa.Date(), nullable=True),
    sa.Column('reorder_point', sa.Integer(), nullable=False),
    sa.Column('reorder_qty', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('notified_reorder_point', sa.Integer(), nullable=True),
    sa.Column('notified_reorder_qty', sa.Integer(), nullable=True),
    sa.Column('notified_reorder_by', sa.Date(), nullable=True),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_demand_forecasts_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand_forecasts')),
    sa.UniqueConstraint('product_id', name=op.f('uq_demand_forecasts_product_id'))
    )
    op.create_table('order_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_order_feedback_rating_one_to_five')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_feedback_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_feedback')),
    sa.UniqueConstraint('order_id', name=op.f('uq_order_feedback_order_id'))
    )
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_reorder_advice', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('email_customer_feedback', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('service_level_percent', sa.Numeric(precision=5, scale=2), nullable=False,
                                      server_default='95.00'))
        batch_op.add_column(sa.Column('reorder_cover_days', sa.Integer(), nullable=False, server_default='30'))


def downgrade():
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('reorder_cover_days')
        batch_op.drop_column('service_level_percent')
        batch_op.drop_column('email_customer_feedback')
        batch_op.drop_column('email_reorder_advice')

    op.drop_table('order_feedback')
    op.drop_table('demand_forecasts')
    op.drop_table('sales_anomalies')
