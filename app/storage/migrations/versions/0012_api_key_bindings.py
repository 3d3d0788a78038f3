"""API keys bound to one person

A `key=email` API key (CHAT_API_KEYS) is bound at its first use to the one
person (issuer and subject) who then carries the email, so that a second
account carrying the same email later does not receive the key's
conversations (app/auth/api_keys.py). The key is kept as its HMAC under
SECRET_KEY, never as itself.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_key_bindings",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("api_key_bindings")
