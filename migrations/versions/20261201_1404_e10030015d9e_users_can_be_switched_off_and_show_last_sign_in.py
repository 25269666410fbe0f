"""users can be switched off and show their last sign-in

Revision ID: e10030015d9e
Revises: 224f515bea9c
Create Date: 2026-12-01 13:57:28.413311

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e10030015d9e'
down_revision = '224f515bea9c'
branch_labels = None
depends_on = None


def upgrade():
    # Everyone who exists now stays able to sign in.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('active')
