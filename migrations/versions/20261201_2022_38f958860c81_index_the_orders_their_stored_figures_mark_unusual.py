"""index the orders their stored figures mark unusual, so the dashboard's check reads those few, not a whole range

Revision ID: 38f958860c81
Revises: 789737faf958
Create Date: 2026-12-01 20:22:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '38f958860c81'
down_revision = '789737faf958'
branch_labels = None
depends_on = None

# webapp.orders.models.UNUSUAL_BY_STORED_FIGURES as of this revision, word for word (the query repeats it).
UNUSUAL = ("earlier_orders >= 3 AND earlier_total > 0"
           " AND (CAST(round(total * 100) AS BIGINT) * earlier_orders > CAST(round(earlier_total * 100) AS BIGINT) * 3"
           " OR CAST(round(total * 100) AS BIGINT) * earlier_orders * 3 < CAST(round(earlier_total * 100) AS BIGINT))")


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_unusual', ['created_at'], unique=False,
                              sqlite_where=sa.text(UNUSUAL), postgresql_where=sa.text(UNUSUAL))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_unusual', sqlite_where=sa.text(UNUSUAL), postgresql_where=sa.text(UNUSUAL))
