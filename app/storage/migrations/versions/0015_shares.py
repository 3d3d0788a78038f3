"""read-only links to conversations

`shares` holds each link's token (unique: the link is found by it), its
conversation (deleting the conversation deletes its links), the newest
message it shows, and what the owner chose to show with it: their name, and
the questions' files (app/storage/shares.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.Column("shown_name", sa.String(320), nullable=True),
        sa.Column("with_attachments", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("token", name="uq_shares_token"),
    )
    op.create_index("ix_shares_conversation_id", "shares", ["conversation_id"])


def downgrade():
    op.drop_index("ix_shares_conversation_id", table_name="shares")
    op.drop_table("shares")
