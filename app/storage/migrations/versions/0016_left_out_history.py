"""what an answer's model was not sent of its conversation

`left_out` keeps, as JSON ({"messages": n, "files": [names]}), the oldest
messages and the earlier files the model was not sent (history limits, the
local model's context window, one request's bytes for files), so the
answer's note saying so survives a reload. None: it was sent everything.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("left_out", sa.Text(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it rebuilds `messages`, which drops the search
    # triggers 0013 made on it (and 0013's own downgrade then fails). SQLite
    # has dropped columns in place since 3.35.
    op.execute("ALTER TABLE messages DROP COLUMN left_out")
