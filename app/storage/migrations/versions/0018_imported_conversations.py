"""conversations brought in from an export file

`imported_from` keeps, for a conversation made by an import, the id it had
where it was first exported (docs/export.md's `origin`); unique per owner,
so importing the same file again finds it and makes nothing, while another
person's import of the same file makes their own copies. None: made here.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("conversations", sa.Column("imported_from", sa.String(64), nullable=True))
    op.create_index("ix_conversations_owner_id_imported_from", "conversations", ["owner_id", "imported_from"],
                    unique=True)


def downgrade():
    op.drop_index("ix_conversations_owner_id_imported_from", table_name="conversations")
    # Not batch mode: on SQLite it rebuilds `conversations`, which drops the search
    # triggers 0013 made on it (and 0013's own downgrade then fails). SQLite
    # has dropped columns in place since 3.35.
    op.execute("ALTER TABLE conversations DROP COLUMN imported_from")
