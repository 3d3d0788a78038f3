"""Migration 0019 (pinned conversations) up and down, on SQLite and
PostgreSQL: the column is added empty, and going back down removes it and
nothing else (the search triggers of 0013 keep working)."""

from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture

CONVERSATION = ("INSERT INTO conversations (id, owner_id, title, created_at, updated_at) "
                "VALUES ('c1', 'alice', 'Tides', '2026-12-07 12:00:00', '2026-12-07 12:00:00')")


def columns(engine):
    return {column["name"] for column in inspect(engine).get_columns("conversations")}


def test_pinned_at_is_added_empty_and_taken_away_going_down(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0019")
    with engine.begin() as connection:
        connection.execute(text(CONVERSATION))
        assert connection.execute(text("SELECT pinned_at FROM conversations")).scalar() is None
        connection.execute(text("UPDATE conversations SET pinned_at = '2026-12-07 13:00:00'"))

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0018")
    assert "pinned_at" not in columns(engine)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT title FROM conversations")).scalar() == "Tides"
        # 0013's search still follows a rename: the table was not rebuilt without its triggers.
        connection.execute(text("UPDATE conversations SET title = 'Currents' WHERE id = 'c1'"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")  # 0013's own downgrade drops its triggers: fails if they are gone
    engine.dispose()
