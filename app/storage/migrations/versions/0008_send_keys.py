"""a key per composed message, so that the same message sent twice is saved once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("send_key", sa.String(64), nullable=True))
        batch.create_index("ix_messages_send_key", ["send_key"], unique=True)


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_send_key")
        batch.drop_column("send_key")
