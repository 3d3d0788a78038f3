"""how long an answer took, from asking the model to its last piece

`answer_seconds` is what the page's tokens per second are measured over
(app/web/answer_stats.py); answers saved before have none and show no rate.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("answer_seconds", sa.Float(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it rebuilds `messages`, which drops the search
    # triggers 0013 made on it (and 0013's own downgrade then fails). SQLite
    # has dropped columns in place since 3.35.
    op.execute("ALTER TABLE messages DROP COLUMN answer_seconds")
