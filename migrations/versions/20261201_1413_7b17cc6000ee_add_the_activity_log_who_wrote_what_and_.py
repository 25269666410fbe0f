"""add the activity log: who wrote what and when

Revision ID: 7b17cc6000ee
Revises: bf0a393c9228
Create Date: 2026-12-01 13:59:10.678904

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b17cc6000ee'
down_revision = 'bf0a393c9228'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('thing_id', sa.Integer(), nullable=True),
    sa.Column('thing_ref', sa.String(length=200), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_entries'))
    )
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.create_index('ix_activity_entries_actor_at', ['actor', 'at'], unique=False)
        batch_op.create_index('ix_activity_entries_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_activity_entries_kind_at', ['kind', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('activity_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_entries_kind_at')
        batch_op.drop_index('ix_activity_entries_at')
        batch_op.drop_index('ix_activity_entries_actor_at')

    op.drop_table('activity_entries')
