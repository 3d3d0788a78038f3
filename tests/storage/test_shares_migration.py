"""Migration 0015 (read-only links) up and down, on SQLite and PostgreSQL: a
link's token is unique, and going back down removes the table, nothing else."""

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture

LINK = """INSERT INTO shares (token, conversation_id, last_message_id, with_attachments, created_at)
          VALUES (:token, 'c1', 1, :files, '2026-12-07 12:00:00')"""


def test_links_are_a_table_of_their_own_with_unique_tokens(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0015")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO conversations (id, owner_id, title, created_at, updated_at) "
                                "VALUES ('c1', 'alice', 'Tides', '2026-12-07 12:00:00', '2026-12-07 12:00:00')"))
        connection.execute(text(LINK), {"token": "t" * 43, "files": False})
        shown_name, files = connection.execute(text("SELECT shown_name, with_attachments FROM shares")).one()
        assert shown_name is None and not files
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(LINK), {"token": "t" * 43, "files": True})
    assert {"ix_shares_conversation_id"} <= {index["name"] for index in inspect(engine).get_indexes("shares")}

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
    assert "shares" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM conversations")).scalar() == 1
    engine.dispose()
