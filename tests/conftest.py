"""Fixtures in the style of Flask's tutorial: a fresh app and client per test."""

import os
import secrets
from contextlib import contextmanager

import pytest

from app import create_app

IN_CI = os.environ.get("CI") == "true"
# What htmx sends: the page routes answer it with an event stream.
HTMX = {"HX-Request": "true"}
# How a streamed piece of an answer starts on the page route (app/page_events.py).
PIECE_MARK = b'-text" hx-swap="beforeend">'


def skip_or_fail(reason):
    """A test that needs a missing tool skips on a laptop, but fails in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, migrated database: a SQLite file, or a throw-away PostgreSQL
    database on the server TEST_DATABASE_URL points at (see .ci/start-postgres)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/chat.sqlite3"
        return
    with throwaway_postgres_database(postgres_admin_url()) as url:
        yield url


def postgres_admin_url():
    """The PostgreSQL server for tests, or a skip (a failure in CI)."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        skip_or_fail("TEST_DATABASE_URL is not set (run: export TEST_DATABASE_URL=$(bash .ci/start-postgres))")
    return admin_url


@contextmanager
def throwaway_postgres_database(admin_url):
    import psycopg
    from sqlalchemy import create_engine

    from app.db import resolve_database_url
    from app.migrate import upgrade

    name = f"chat_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(resolve_database_url(url, None))
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def make_app(database_url):
    """Build an app on the fake provider and a fresh database; settings by name."""

    def build(chat_model=None, **overrides):
        settings = {"provider": "fake", "model": "fake-echo", "database_url": database_url}
        settings.update(overrides)
        return create_app(settings, chat_model=chat_model)

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
