"""pinned conversations

`pinned_at`: when the person pinned the conversation to the top of their
list (the sidebar's "Pinned" group, newest pin first); None: not pinned.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("conversations", sa.Column("pinned_at", sa.DateTime(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it rebuilds `conversations`, which drops the
    # search triggers 0013 made on it. SQLite drops columns in place since 3.35.
    op.execute("ALTER TABLE conversations DROP COLUMN pinned_at")
