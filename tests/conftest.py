"""Fixtures in the style of Flask's tutorial: a fresh app and client per test."""

import os
import re
import secrets
import time
from contextlib import contextmanager

import pytest
import requests
from flask.testing import FlaskClient

from app import create_app
from app.auth.csrf import HEADER, SESSION_KEY
from tests.providers.tls_certificate import session_certificate

# The Vertex AI stand-in's gRPC side speaks TLS with a throw-away certificate,
# which gRPC trusts through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: it reads that
# once per process, at its first secure channel, so it is set before any test
# (and inherited by the servers the tests start).
session_certificate()

# The app refuses to start without a real SECRET_KEY outside debug; tests and
# the servers they start use this one.
os.environ.setdefault("SECRET_KEY", "tests-" + secrets.token_hex(16))

IN_CI = os.environ.get("CI") == "true"
# What htmx sends: the page routes answer it with an event stream.
HTMX = {"HX-Request": "true"}
# How a streamed piece of an answer starts on the page route (app/rendering/page_events.py).
PIECE_MARK = b'-text" hx-swap="beforeend">'


def skip_or_fail(reason):
    """A test that needs a missing tool skips on a laptop, but fails in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


class PageClient(FlaskClient):
    """A test client that has loaded the page before it writes, as a browser
    has: it holds an owner and sends the page's CSRF token."""

    def open(self, *args, **kwargs):
        if kwargs.get("method", "GET") != "GET" or (args and getattr(args[0], "method", "GET") != "GET"):
            with self.session_transaction() as session:
                session.setdefault("owner", secrets.token_urlsafe(18))
                token = session.setdefault(SESSION_KEY, secrets.token_urlsafe(32))
            kwargs["headers"] = {HEADER: token, **(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


def page_session(base_url):
    """A requests.Session that has loaded the page and sends its CSRF token."""
    browser = requests.Session()
    page = browser.get(base_url + "/", timeout=30).text
    browser.headers[HEADER] = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return browser


def start_answer(browser, base_url, message, **form):
    """Send a message as htmx does, through `page_session`'s browser: (the new
    bubbles' HTML, the URL of the answer's event stream)."""
    response = browser.post(f"{base_url}/messages", headers=HTMX, data={"message": message, **form}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    events_url = re.search(r'hx-sse:connect="([^"]+)"', response.text).group(1).replace("&amp;", "&")
    return response.text, base_url + events_url


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

    from app.storage.engine import resolve_database_url
    from app.storage.migrate import upgrade

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
        drop_database(psycopg, admin_url, name)


def drop_database(psycopg, admin_url, name, tries=20):
    # FORCE ends the test's own sessions, but not one of PostgreSQL's own
    # (autovacuum can be working on the new database): then wait a moment.
    for attempt in range(tries):
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == tries - 1:
                raise
            time.sleep(0.25)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the fake provider and a fresh database; settings by name."""

    def build(chat_model=None, **overrides):
        settings = {
            "provider": "fake", "model": "fake-echo", "database_url": database_url,
            # tests of the limits turn them on
            "rate_messages_per_minute": 0, "rate_max_streams": 0, "rate_address_messages_per_minute": 0,
            "rate_address_max_streams": 0, "rate_new_owners_per_hour": 0, "rate_failed_auth_per_hour": 0,
            "rate_limit_file": str(tmp_path / f"rate-limits-{len(built)}.sqlite3"),
        }
        settings.update(overrides)
        app = create_app(settings, chat_model=chat_model)
        app.test_client_class = PageClient
        built.append(app)
        return app

    built = []
    yield build
    # Answers generated in the background end before the test's database goes.
    for app in built:
        assert app.extensions["answer_tasks"].wait(timeout=30), "an answer was still being generated"
        app.extensions["answer_notices"].close()


API_KEY = "tests-api-key-" + "k" * 24  # keys are 32 characters or more


def api_client(app, key=API_KEY):
    """A client of an app built with `api_keys=(key, ...)` that sends the key,
    as a program keeping stored conversations does."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
