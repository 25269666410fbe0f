"""record which worker is sending an email, and when it began handing the message over

Revision ID: 3c9e7f1a2b4d
Revises: e10030015d9e
Create Date: 2026-12-01 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c9e7f1a2b4d'
down_revision = 'e10030015d9e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('handover_started_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.drop_column('handover_started_at')
        batch_op.drop_column('claimed_by')
