"""keep the platform's tax, discount and tax per rate on orders and invoices

Revision ID: bf0a393c9228
Revises: a3ef0e645eff
Create Date: 2026-12-01 13:57:57.519444

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bf0a393c9228'
down_revision = 'a3ef0e645eff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_included', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('tax_lines', sa.JSON(), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_included', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('tax_lines', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('tax_lines')
        batch_op.drop_column('tax_included')

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('tax_lines')
        batch_op.drop_column('tax_included')
        batch_op.drop_column('discount')

