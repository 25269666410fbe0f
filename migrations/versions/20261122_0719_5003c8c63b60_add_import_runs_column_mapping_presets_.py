"""add import runs, column mapping presets and one imported order per reference

Revision ID: 5003c8c63b60
Revises: 6f1e5c34be63
Create Date: 2026-11-22 07:19:33.065802

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5003c8c63b60'
down_revision = '6f1e5c34be63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('column_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_column_mappings')),
    sa.UniqueConstraint('name', name=op.f('uq_column_mappings_name'))
    )
    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('history', sa.Boolean(), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('uq_orders_import_external_ref', ['external_ref'], unique=True,
                              sqlite_where=sa.text("channel = 'import'"),
                              postgresql_where=sa.text("channel = 'import'"))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('uq_orders_import_external_ref')

    op.drop_table('imports')
    op.drop_table('column_mappings')
