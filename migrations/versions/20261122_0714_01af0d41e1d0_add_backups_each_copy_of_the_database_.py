"""add backups: each copy of the database, its size and whether a restore of it matched

Revision ID: 01af0d41e1d0
Revises: 5003c8c63b60
Create Date: 2026-11-22 07:14:05.155863

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '01af0d41e1d0'
down_revision = '5003c8c63b60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('backups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('row_counts', sa.JSON(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backups'))
    )


def downgrade():
    op.drop_table('backups')
