"""a message's Thinking switch, and how long its answer thought

`thinking` is the composer's "Think before answering" for that message (kept
on the question and its answer, like `search`): True asks the model to think
(thinking_budget -1), False not to (0), None leaves CHAT_THINKING_BUDGET or
the model's default. `thought_seconds` is an answer's time from its first
thought to its first piece of text, which the folded thinking section says
("Thought for 4 s"); answers saved before have none and say nothing.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("messages", sa.Column("thinking", sa.Boolean(), nullable=True))
    op.add_column("messages", sa.Column("thought_seconds", sa.Float(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it rebuilds `messages`, which drops the search
    # triggers 0013 made on it (and 0013's own downgrade then fails). SQLite
    # has dropped columns in place since 3.35.
    op.execute("ALTER TABLE messages DROP COLUMN thought_seconds")
    op.execute("ALTER TABLE messages DROP COLUMN thinking")
