"""Migration 0020 (a message's Thinking switch and how long its answer
thought) up and down, on SQLite and PostgreSQL: the columns are added empty,
and going back down removes them and nothing else (0013's search triggers on
`messages` keep working)."""

from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture

CONVERSATION = ("INSERT INTO conversations (id, owner_id, title, created_at, updated_at) "
                "VALUES ('c1', 'alice', 'Tides', '2026-12-07 12:00:00', '2026-12-07 12:00:00')")
MESSAGE = ("INSERT INTO messages (conversation_id, role, content, outcome, error, model, created_at) "
           "VALUES ('c1', 'assistant', 'High tide at noon', 'complete', '', '', '2026-12-07 12:00:00')")


def columns(engine):
    return {column["name"] for column in inspect(engine).get_columns("messages")}


def test_thinking_and_thought_seconds_are_added_empty_and_taken_away_going_down(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0020")
    with engine.begin() as connection:
        connection.execute(text(CONVERSATION))
        connection.execute(text(MESSAGE))
        assert connection.execute(text("SELECT thinking, thought_seconds FROM messages")).one() == (None, None)
        connection.execute(text("UPDATE messages SET thinking = false, thought_seconds = 4.2"))

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0019")
    assert not {"thinking", "thought_seconds"} & columns(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT content FROM messages")).scalar() == "High tide at noon"
        # 0013's search still follows an edit: the table was not rebuilt without its triggers.
        connection.execute(text("UPDATE messages SET content = 'Low tide at six'"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")  # 0013's own downgrade drops its triggers: fails if they are gone
    engine.dispose()
