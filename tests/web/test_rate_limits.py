"""Rate limits per client: messages per minute and simultaneous streams."""

import re

import pytest

from tests.conftest import HTMX
from tests.scripted_model import ScriptedChatModel


@pytest.fixture(params=["memory", "database"])
def store(request):
    return request.param


def test_too_many_messages_in_a_minute_get_429_with_retry_after(make_app, store):
    client = make_app(rate_messages_per_minute=3, rate_limit_store=store).test_client()
    for _ in range(3):
        assert client.post("/api/chat", json={"message": "hi"}).status_code == 200
    refused = client.post("/api/chat", json={"message": "hi"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 messages in a minute" in refused.json["error"]


def test_the_page_shows_the_limit_next_to_the_input(make_app, store):
    client = make_app(rate_messages_per_minute=1, rate_limit_store=store).test_client()
    "".join(c.decode() for c in client.post("/messages", headers=HTMX, data={"message": "one"}, buffered=False).response)
    refused = client.post("/messages", headers=HTMX, data={"message": "two"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert b'hx-target="#composer-error"' in refused.data and b"Please wait a moment" in refused.data


def test_simultaneous_streams_are_limited_and_freed_when_they_end(make_app, store):
    model = ScriptedChatModel(pieces=[f"p{i}" for i in range(50)], delay=0.01)
    app = make_app(chat_model=model, rate_max_streams=1, rate_limit_store=store)
    client = app.test_client()
    first = client.post("/api/chat/stream", json={"message": "one"}, buffered=False)
    stream = iter(first.response)
    next(stream)
    second = client.post("/api/chat/stream", json={"message": "two"})
    assert second.status_code == 429 and "already have 1 answer streaming" in second.json["error"]
    for _ in stream:
        pass
    first.close()
    assert client.post("/api/chat", json={"message": "three"}).status_code == 200


def test_clients_are_limited_separately(make_app):
    app = make_app(rate_messages_per_minute=1)
    one, two = app.test_client(), app.test_client()
    for client in (one, two):
        body = "".join(c.decode() for c in client.post("/messages", headers=HTMX, data={"message": "hi"}, buffered=False).response)
        assert re.search(r"outcome-complete", body)
