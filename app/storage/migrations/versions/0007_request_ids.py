"""the id of the request that asked for each message, to trace an answer's logs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("request_id")
