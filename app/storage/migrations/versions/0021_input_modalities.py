"""an answer's input tokens by modality

`input_modalities` is Gemini's `promptTokensDetails` for the answer, as a
JSON object of lowercased modality and tokens ({"text": 940, "image": 258}):
images, audio and video are billed as tokens, audio at its own price for
some models (app/answers/prices.py), and the stats line says what the input
included ("1,198 in (258 image)"). Answers saved before, and those of models
that do not say, have none.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("messages", sa.Column("input_modalities", sa.Text(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite it rebuilds `messages`, which drops the search
    # triggers 0013 made on it (and 0013's own downgrade then fails). SQLite
    # has dropped columns in place since 3.35.
    op.execute("ALTER TABLE messages DROP COLUMN input_modalities")
