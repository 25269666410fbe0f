"""Webhook deliveries: when the current send began, so one cut off by a dying worker can be claimed again

Revision ID: 224f515bea9c
Revises: a57de9013211
Create Date: 2026-12-01 14:03:22.767210

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '224f515bea9c'
down_revision = 'a57de9013211'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_since', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('sending_since')

