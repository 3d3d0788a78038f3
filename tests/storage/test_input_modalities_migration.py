"""Migration 0021 (an answer's input tokens by modality) up and down, on
SQLite and PostgreSQL: the column is added empty, and going back down removes
it and nothing else (0013's search triggers on `messages` keep working)."""

from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture
from tests.storage.test_thinking_migration import CONVERSATION, MESSAGE


def columns(engine):
    return {column["name"] for column in inspect(engine).get_columns("messages")}


def test_input_modalities_is_added_empty_and_taken_away_going_down(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0021")
    with engine.begin() as connection:
        connection.execute(text(CONVERSATION))
        connection.execute(text(MESSAGE))
        assert connection.execute(text("SELECT input_modalities FROM messages")).scalar() is None
        connection.execute(text("""UPDATE messages SET input_modalities = '{"text": 940, "image": 258}'"""))

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    assert "input_modalities" not in columns(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT content FROM messages")).scalar() == "High tide at noon"
        # 0013's search still follows an edit: the table was not rebuilt without its triggers.
        connection.execute(text("UPDATE messages SET content = 'Low tide at six'"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")  # 0013's own downgrade drops its triggers: fails if they are gone
    engine.dispose()
