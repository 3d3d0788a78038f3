"""Migration 0010 (people and their sign-ins) on a database made before it:
every anonymous conversation is kept, still its browser's, and usable."""

import secrets
from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config, upgrade
from tests.conftest import PageClient, drop_database, postgres_admin_url

BROWSER = "anonymous-browser-owner-1"  # an owner id as CHAT_AUTH=none gives them


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/before-people.sqlite3"
        return
    import psycopg

    admin_url = postgres_admin_url()
    name = f"chat_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        drop_database(psycopg, admin_url, name)


def migrate(engine, revision):
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def add_anonymous_conversation(connection, conversation_id, question, answer):
    now = datetime(2026, 11, 30, 12, 0)
    connection.execute(text(
        "INSERT INTO conversations (id, owner_id, title, created_at, updated_at) VALUES (:id, :owner, :title, :now, :now)"
    ), {"id": conversation_id, "owner": BROWSER, "title": question, "now": now})
    for role, content in (("user", question), ("assistant", answer)):
        connection.execute(text(
            "INSERT INTO messages (conversation_id, role, content, outcome, error, model, created_at) "
            "VALUES (:id, :role, :content, 'complete', '', 'fake-echo', :now)"
        ), {"id": conversation_id, "role": role, "content": content, "now": now})


def test_an_upgraded_database_keeps_every_anonymous_conversation(unmigrated_url, tmp_path):
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0009")
    with engine.begin() as connection:
        add_anonymous_conversation(connection, "conversation-one", "Where is the ferry?", "At pier 3.")
        add_anonymous_conversation(connection, "conversation-two", "And the bus?", "Line 7.")

    upgrade(engine)
    tables = inspect(engine).get_table_names()
    assert {"people", "sign_ins"} <= set(tables)
    with engine.connect() as connection:
        owners = connection.execute(text("SELECT id, owner_id FROM conversations ORDER BY id")).all()
        assert owners == [("conversation-one", BROWSER), ("conversation-two", BROWSER)]
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 4
        assert connection.execute(text("SELECT count(*) FROM people")).scalar() == 0
    engine.dispose()

    # The browser that made them still has them, and can go on with them.
    app = create_app({"provider": "fake", "model": "fake-echo", "database_url": unmigrated_url,
                      "rate_limit_file": str(tmp_path / "rate-limits.sqlite3")})
    app.test_client_class = PageClient
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["owner"] = BROWSER
    page = browser.get("/c/conversation-one").get_data(as_text=True)
    assert "Where is the ferry?" in page and "At pier 3." in page and "And the bus?" in page
    assert browser.post("/messages", data={"message": "Thanks!", "conversation_id": "conversation-one"}).status_code == 303
    assert app.extensions["answer_tasks"].wait(timeout=30)
    assert "Thanks!" in browser.get("/c/conversation-one").get_data(as_text=True)
    app.extensions["answer_notices"].close()
    app.extensions["db_engine"].dispose()


def test_the_migration_goes_back_down(unmigrated_url):
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    upgrade(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    assert not {"people", "sign_ins"} & set(inspect(engine).get_table_names())
    engine.dispose()
