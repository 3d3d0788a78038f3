import pytest


@pytest.fixture
def database_url(tmp_path):
    # The OpenAI-compatible API stores nothing (the client sends the
    # conversation): one database will do.
    return f"sqlite:///{tmp_path}/chat.sqlite3"
