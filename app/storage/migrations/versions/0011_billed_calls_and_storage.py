"""billed model calls kept apart from messages, and what each owner stores

`billed_calls` holds one row per answer the model was asked for, written when
it ends and never deleted with its messages or conversation (the operator's
usage report reads it). `stored_bytes` on messages and conversations counts
what a message and a conversation keep, for CHAT_STORAGE_PER_PERSON_MB.
Both are filled from what is stored already.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from app.answers.prices import LONG_PROMPT_PRICES, PRICES, PriceTable, model_name_of
from app.providers.ending import Usage

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    op.create_table(
        "billed_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.String(80), nullable=False),
        # Not foreign keys: the record outlives the conversation and the answer.
        sa.Column("conversation_id", sa.String(32), nullable=True),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=True),
        sa.Column("grounded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_billed_calls_owner_id_at", "billed_calls", ["owner_id", "at"])
    op.create_index("ix_billed_calls_at", "billed_calls", ["at"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("stored_bytes", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("stored_bytes", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index("ix_conversations_owner_id_stored_bytes", "conversations", ["owner_id", "stored_bytes"])
    connection = op.get_bind()
    _fill_stored_bytes(connection)
    _fill_billed_calls(connection)


def _fill_stored_bytes(connection):
    # Bytes as UTF-8, as the app counts them (app/storage/storage_use.py).
    if connection.dialect.name == "postgresql":
        size = "COALESCE(octet_length({0}), 0)"
    else:
        size = "COALESCE(length(CAST({0} AS BLOB)), 0)"
    total = " + ".join(size.format(column) for column in ("content", "rendered", "thoughts", "grounding"))
    connection.execute(sa.text(f"UPDATE messages SET stored_bytes = {total}"))
    connection.execute(sa.text(
        "UPDATE conversations SET stored_bytes = "
        "(SELECT COALESCE(SUM(m.stored_bytes), 0) FROM messages m WHERE m.conversation_id = conversations.id)"
    ))


def _fill_billed_calls(connection):
    """A row for every answer that reported its tokens, priced with the
    built-in table (an operator's CHAT_PRICES are not known here)."""
    prices = PriceTable(PRICES, LONG_PROMPT_PRICES)
    select_answers = sa.text(
        "SELECT m.id, c.owner_id, c.id, m.model, m.outcome, m.input_tokens, m.output_tokens, m.reasoning_tokens, "
        "m.grounding, m.created_at FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE m.role = 'assistant' AND m.input_tokens IS NOT NULL AND m.id > :after ORDER BY m.id LIMIT :batch"
    )
    insert = sa.text(
        "INSERT INTO billed_calls (owner_id, conversation_id, answer_id, model, outcome, input_tokens, output_tokens, "
        "reasoning_tokens, grounded, cost_usd, at) VALUES (:owner_id, :conversation_id, :answer_id, :model, "
        ":outcome, :input_tokens, :output_tokens, :reasoning_tokens, :grounded, :cost_usd, :at)"
    )
    after = 0
    while True:
        rows = connection.execute(select_answers, {"after": after, "batch": BATCH}).all()
        if not rows:
            return
        records = []
        for answer_id, owner, conversation, label, outcome, tokens_in, tokens_out, reasoning, grounding, at in rows:
            model = model_name_of(label or "")
            usage = Usage.stored(tokens_in, tokens_out, reasoning)
            records.append({
                "owner_id": owner, "conversation_id": conversation, "answer_id": answer_id, "model": model,
                "outcome": outcome, "input_tokens": tokens_in, "output_tokens": tokens_out,
                "reasoning_tokens": reasoning, "grounded": bool(grounding),
                "cost_usd": prices.estimate(model, usage, grounded=bool(grounding)), "at": at,
            })
        connection.execute(insert, records)
        after = rows[-1][0]


def downgrade():
    op.drop_index("ix_conversations_owner_id_stored_bytes", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("stored_bytes")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("stored_bytes")
    op.drop_table("billed_calls")
