"""Rate limits per client: messages per minute and simultaneous streams."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.storage.models import RateEvent, utcnow
from app.web.rate_limits import SWEEP_EVERY

from tests.conftest import HTMX
from tests.scripted_model import ScriptedChatModel


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


@pytest.fixture(params=["machine", "database"])
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


def test_limits_are_exact_across_workers(make_app, tmp_path, store):
    # Two apps on one rate-limit file (or one database) are two workers of a machine.
    shared = {"rate_messages_per_minute": 3, "rate_limit_store": store, "rate_limit_file": str(tmp_path / "rl.sqlite3")}
    workers = [make_app(**shared), make_app(**shared)]
    if store == "database":
        workers[1] = make_app(**shared, database_url=workers[0].config["CHAT"].database_url)
    clients = [worker.test_client() for worker in workers]
    statuses = [clients[i % 2].post("/api/chat", json={"message": "hi"}).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_new_cookie_per_message_does_not_escape_the_address_limit(make_app):
    app = make_app(rate_messages_per_minute=20, rate_address_messages_per_minute=5)
    statuses = []
    for _ in range(6):
        fresh = app.test_client()  # a new identity for every message
        statuses.append(fresh.post("/messages", headers=HTMX, data={"message": "hi"}).status_code)
    assert statuses == [200] * 5 + [429]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.post("/messages", headers=HTMX, data={"message": "hi"}).status_code == 200


def test_an_address_has_only_so_many_streams_whatever_its_cookies(make_app):
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(400)], delay=0.01)
    app = make_app(chat_model=model, rate_max_streams=3, rate_address_max_streams=2)
    first, second, third = (app.test_client() for _ in range(3))
    for client in (first, second):
        assert client.post("/messages", headers=HTMX, data={"message": "long"}).status_code == 200
    wait_until(lambda: open_streams(app) == 2)  # generated in the background, each holding a slot
    refused = third.post("/messages", headers=HTMX, data={"message": "one more"})
    assert refused.status_code == 429 and b"Your network address already has 2 answers streaming" in refused.data


def open_streams(app):
    with Session(app.extensions["limiter"].engine) as db:
        return db.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.kind == "stream"))


def test_new_identities_per_address_are_capped_without_a_cookie(make_app):
    app = make_app(rate_new_owners_per_hour=3)
    statuses = []
    for _ in range(4):
        response = app.test_client().get("/")
        statuses.append((response.status_code, "Set-Cookie" in response.headers))
    assert statuses == [(200, True)] * 3 + [(429, False)]
    assert "Retry-After" in app.test_client().get("/").headers
    # another address is not affected
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert elsewhere.get("/").status_code == 200


def test_old_counts_are_forgotten(make_app, store):
    app = make_app(rate_messages_per_minute=1000, rate_limit_store=store)
    limiter = app.extensions["limiter"]
    with Session(limiter.engine) as db:
        db.add_all(RateEvent(key=f"gone-{i}", kind="message", at=utcnow() - timedelta(hours=2)) for i in range(50))
        db.commit()
    client = app.test_client()
    for _ in range(SWEEP_EVERY):
        client.post("/api/chat", json={"message": "hi"})
    with Session(limiter.engine) as db:
        assert db.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.key.like("gone-%"))) == 0


def test_an_ipv6_network_is_one_address_to_the_per_address_limits(make_app, store):
    """Every address of one /64 is one customer's: hopping between them (and
    sending no cookie, so each request is a new client) does not reset the count."""
    app = make_app(rate_address_messages_per_minute=3, rate_limit_store=store)
    statuses = []
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:7:7::{n + 1:x}"
        statuses.append(client.post("/api/chat", json={"message": "hi"}).status_code)
    assert statuses == [200, 200, 200, 429, 429]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "2001:db8:7:8::1"
    assert elsewhere.post("/api/chat", json={"message": "hi"}).status_code == 200
