"""who is generating an answer, and when it last showed it was alive

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("generator", sa.String(64), nullable=True))
        batch.add_column(sa.Column("alive_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("alive_at")
        batch.drop_column("generator")
