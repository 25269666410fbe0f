"""store each order's shop day and cover the dashboard's reads with indexes

Revision ID: a3ef0e645eff
Revises: 3c9e7f1a2b4d
Create Date: 2026-12-01 14:05:56.458453

"""
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from webapp.timekeeping import utc_offsets

# revision identifiers, used by Alembic.
revision = 'a3ef0e645eff'
down_revision = '3c9e7f1a2b4d'
branch_labels = None
depends_on = None


def upgrade():
    # The covering index starts with order_id, so it also serves what ix_order_lines_order_id did.
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))
        batch_op.create_index('ix_order_lines_sales', ['order_id', 'product_id', 'sku', 'quantity', 'line_total',
                                                       'name'], unique=False)

    # Likewise ix_orders_sales starts with created_at and replaces ix_orders_created_at.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shop_day', sa.Date(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_orders_created_at'))
        batch_op.create_index('ix_orders_sales', ['created_at', 'status', 'total', 'customer_id', 'shipped_at',
                                                  'channel', 'shop_day'], unique=False)
    fill_shop_days()


def fill_shop_days():
    """Existing orders' shop days, one UPDATE per stretch of constant UTC offset (left NULL they would still be
    counted right, only slower)."""
    bind = op.get_bind()
    name = bind.execute(sa.text("SELECT time_zone FROM shop_settings WHERE id = 1")).scalar()
    zone = ZoneInfo(name or os.environ.get("SHOP_TIMEZONE", "Europe/London"))
    first, last = bind.execute(sa.text("SELECT min(created_at), max(created_at) FROM orders")).one()
    if first is None:
        return
    if isinstance(first, str):  # SQLite hands back its text
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    changes = utc_offsets(first, last + timedelta(seconds=1), zone)
    postgres = bind.dialect.name == "postgresql"
    for i, (since, minutes) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else last + timedelta(seconds=1)
        day = ("CAST(created_at + :minutes * INTERVAL '1 minute' AS DATE)" if postgres
               else "date(created_at, :minutes || ' minutes')")
        bind.execute(sa.text(f"UPDATE orders SET shop_day = {day} WHERE created_at >= :since AND created_at < :until"),
                     {"minutes": minutes if postgres else f"{minutes:+d}", "since": since, "until": until})


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_sales')
        batch_op.create_index(batch_op.f('ix_orders_created_at'), ['created_at'], unique=False)
        batch_op.drop_column('shop_day')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_sales')
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)
