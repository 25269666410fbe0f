"""Demand forecasts: the day the model was last fitted, and why a night refitted it or kept it

Revision ID: 4c2a7fa648b3
Revises: 7b17cc6000ee
Create Date: 2026-12-01 14:14:50.624546

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c2a7fa648b3'
down_revision = '7b17cc6000ee'
branch_labels = None
depends_on = None


def upgrade():
    # Forecasts stored before this have no fit day: the next nightly run refits them (their points cover only
    # 90 days from their as_of, too few to be kept and rolled forward).
    with op.batch_alter_table('demand_forecasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fitted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('refit_note', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('demand_forecasts', schema=None) as batch_op:
        batch_op.drop_column('refit_note')
        batch_op.drop_column('fitted_on')
