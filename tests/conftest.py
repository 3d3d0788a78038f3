"""Fixtures in the style of Flask's tutorial: a fresh app and client per test."""

import os

import pytest

from app import create_app

IN_CI = os.environ.get("CI") == "true"


def skip_or_fail(reason):
    """A test that needs a missing tool skips on a laptop, but fails in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture
def make_app(tmp_path):
    """Build an app on the fake provider and a fresh SQLite file; settings by name."""

    def build(chat_model=None, **overrides):
        settings = {"provider": "fake", "model": "fake-echo", "database_url": f"sqlite:///{tmp_path}/chat.sqlite3"}
        settings.update(overrides)
        return create_app(settings, chat_model=chat_model)

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
