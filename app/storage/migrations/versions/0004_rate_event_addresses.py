"""rate events also name the client's address, so limits hold per address

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rate_events") as batch:
        batch.add_column(sa.Column("address", sa.String(64), nullable=True))
    op.create_index("ix_rate_events_address_kind_at", "rate_events", ["address", "kind", "at"])


def downgrade():
    op.drop_index("ix_rate_events_address_kind_at", "rate_events")
    with op.batch_alter_table("rate_events") as batch:
        batch.drop_column("address")
