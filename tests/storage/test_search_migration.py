"""Migration 0013 on a database with conversations in it: what was stored
before is searchable at once (the index is filled), an answer still
streaming is not, and the index then follows new writes."""

from alembic import command
from sqlalchemy import create_engine, text

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from app.storage.search import search_conversations, search_terms
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture


def found(connection, owner, query):
    return [(hit.conversation_id, hit.message_id) for hit in search_conversations(connection, owner, search_terms(query))]


def test_upgrading_from_0012_fills_the_index_from_the_stored_messages(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0012")
    with engine.begin() as connection:
        for conversation_id, owner, title in (("c1", "alice", "Ferries"), ("c2", "bob", "Buses and ferries")):
            connection.execute(text(
                "INSERT INTO conversations (id, owner_id, title, created_at, updated_at) "
                "VALUES (:id, :owner, :title, '2026-12-01 12:00:00', '2026-12-01 12:00:00')"),
                {"id": conversation_id, "owner": owner, "title": title})
        for conversation_id, role, content, outcome in (
            ("c1", "user", "Where is the harbour?", "complete"),
            ("c1", "assistant", "At pier three, by the lighthouse.", "complete"),
            ("c1", "user", "And the timetable?", "complete"),
            ("c1", "assistant", "A partial timetable answer", "streaming"),
        ):
            connection.execute(text(
                "INSERT INTO messages (conversation_id, role, content, outcome, error, model, created_at) "
                "VALUES (:c, :role, :content, :outcome, '', '', '2026-12-01 12:00:00')"),
                {"c": conversation_id, "role": role, "content": content, "outcome": outcome})

    migrate(engine, "0013")
    with engine.begin() as connection:
        assert found(connection, "alice", "lighthouse") == [("c1", 2)]
        assert found(connection, "alice", "ferries") == [("c1", None)]  # by its title
        assert found(connection, "bob", "lighthouse") == []
        assert found(connection, "alice", "partial") == []  # still streaming
        # Once it ends, it is found; its old words are not.
        connection.execute(text("UPDATE messages SET outcome = 'complete', content = 'Hourly, from six.' WHERE id = 4"))
        assert found(connection, "alice", "hourly") == [("c1", 4)]
        assert found(connection, "alice", "timetable") == [("c1", 3)]

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 4
    engine.dispose()
