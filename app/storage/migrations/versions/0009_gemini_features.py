"""a model and instructions per conversation; an answer's thoughts, its
Google Search grounding, and whether its question asked for search

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("model", sa.String(200), nullable=True))
        batch.add_column(sa.Column("instructions", sa.Text(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("thoughts", sa.Text(), nullable=True))
        batch.add_column(sa.Column("grounding", sa.Text(), nullable=True))
        batch.add_column(sa.Column("search", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("search")
        batch.drop_column("grounding")
        batch.drop_column("thoughts")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("instructions")
        batch.drop_column("model")
