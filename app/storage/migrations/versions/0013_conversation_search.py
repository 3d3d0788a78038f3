"""full-text search over conversations, and their keyset paging index

A person's conversations are searched by their titles and by the text of
their messages (app/storage/search.py):

- SQLite: two FTS5 tables. `message_search` indexes messages.content as
  external content (rowid = messages.id), kept in step by triggers on
  messages; `conversation_search` holds each conversation's title with its
  id, kept in step by triggers on conversations. The triggers see every
  write, whichever code path makes it (the page, the APIs, Regenerate, Edit,
  a deleted conversation's cascade).
- PostgreSQL: generated tsvector columns (messages.content_search,
  conversations.title_search) with GIN indexes; the database recomputes them
  on every write.

An answer is indexed once it has ended (outcome != 'streaming'): its
checkpoints while it streams cost nothing here. Both are filled from what
is stored already.

On SQLite, a later migration that *recreates* messages or conversations
(alembic's batch mode with recreate="always", or a change ALTER TABLE cannot
make) drops their triggers with the old table: it must create them again
(`create_sqlite_triggers` below shows them).

`ix_conversations_owner_id_updated_at_id` serves the sidebar's pages (newest
first, then the next page after the last one's updated time and id).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Answers are indexed once ended; a question is saved complete.
INDEXED = "outcome != 'streaming'"
# A tsvector holds at most 1 MB; the words past this many characters of one
# message are not searchable on PostgreSQL.
PG_INDEXED_CHARS = 200_000

SQLITE_TABLES = (
    # unicode61 folds case and accents; the app's search terms are split the
    # same way. Prefixes of 3 and 4 letters have indexes of their own: the
    # box searches as the person types, and a short prefix would otherwise
    # merge the lists of every word it starts.
    "CREATE VIRTUAL TABLE message_search USING fts5("
    " content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='3 4')",
    "CREATE VIRTUAL TABLE conversation_search USING fts5("
    " title, conversation_id UNINDEXED, tokenize='unicode61 remove_diacritics 2', prefix='3 4')",
)
# An external-content FTS5 row is removed by giving back exactly what was
# indexed: the old row's values, and only if the old row was indexed.
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER message_search_insert AFTER INSERT ON messages WHEN new.{INDEXED} BEGIN
        INSERT INTO message_search (rowid, content) VALUES (new.id, new.content);
    END""",
    f"""CREATE TRIGGER message_search_delete AFTER DELETE ON messages WHEN old.{INDEXED} BEGIN
        INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.id, old.content);
    END""",
    f"""CREATE TRIGGER message_search_update AFTER UPDATE OF content, outcome ON messages
        WHEN old.{INDEXED} OR new.{INDEXED} BEGIN
        INSERT INTO message_search (message_search, rowid, content)
            SELECT 'delete', old.id, old.content WHERE old.{INDEXED};
        INSERT INTO message_search (rowid, content) SELECT new.id, new.content WHERE new.{INDEXED};
    END""",
    """CREATE TRIGGER conversation_search_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversation_search (title, conversation_id) VALUES (new.title, new.id);
    END""",
    """CREATE TRIGGER conversation_search_delete AFTER DELETE ON conversations BEGIN
        DELETE FROM conversation_search WHERE conversation_id = old.id;
    END""",
    """CREATE TRIGGER conversation_search_update AFTER UPDATE OF title ON conversations BEGIN
        DELETE FROM conversation_search WHERE conversation_id = old.id;
        INSERT INTO conversation_search (title, conversation_id) VALUES (new.title, new.id);
    END""",
)
SQLITE_FILL = (
    f"INSERT INTO message_search (rowid, content) SELECT id, content FROM messages WHERE {INDEXED}",
    "INSERT INTO conversation_search (title, conversation_id) SELECT title, id FROM conversations",
)

POSTGRESQL = (
    # 'simple': no stemming and no stop words, as SQLite's unicode61 (people
    # write in many languages).
    "ALTER TABLE messages ADD COLUMN content_search tsvector GENERATED ALWAYS AS ("
    f" CASE WHEN {INDEXED} THEN to_tsvector('simple'::regconfig, left(content, {PG_INDEXED_CHARS})) END) STORED",
    "CREATE INDEX ix_messages_content_search ON messages USING gin (content_search)",
    "ALTER TABLE conversations ADD COLUMN title_search tsvector GENERATED ALWAYS AS ("
    " to_tsvector('simple'::regconfig, title)) STORED",
    "CREATE INDEX ix_conversations_title_search ON conversations USING gin (title_search)",
)


def create_sqlite_triggers(connection):
    for statement in SQLITE_TRIGGERS:
        connection.execute(sa.text(statement))


def upgrade():
    op.create_index("ix_conversations_owner_id_updated_at_id", "conversations", ["owner_id", "updated_at", "id"])
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # Adding a generated column computes it for every row already stored.
        for statement in POSTGRESQL:
            connection.execute(sa.text(statement))
        return
    for statement in SQLITE_TABLES:
        connection.execute(sa.text(statement))
    create_sqlite_triggers(connection)
    for statement in SQLITE_FILL:
        connection.execute(sa.text(statement))


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.drop_index("ix_conversations_title_search", "conversations")
        op.drop_index("ix_messages_content_search", "messages")
        connection.execute(sa.text("ALTER TABLE conversations DROP COLUMN title_search"))
        connection.execute(sa.text("ALTER TABLE messages DROP COLUMN content_search"))
    else:
        for name in ("message_search_insert", "message_search_delete", "message_search_update",
                     "conversation_search_insert", "conversation_search_delete", "conversation_search_update"):
            connection.execute(sa.text(f"DROP TRIGGER {name}"))
        connection.execute(sa.text("DROP TABLE message_search"))
        connection.execute(sa.text("DROP TABLE conversation_search"))
    op.drop_index("ix_conversations_owner_id_updated_at_id", "conversations")
