"""how an answer ended in the model's own words, and the tokens it cost

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = (
    ("finish_reason", sa.String(40)),
    ("block_category", sa.String(64)),
    ("input_tokens", sa.Integer()),
    ("output_tokens", sa.Integer()),
    ("reasoning_tokens", sa.Integer()),
)


def upgrade():
    with op.batch_alter_table("messages") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        for name, _type in reversed(COLUMNS):
            batch.drop_column(name)
