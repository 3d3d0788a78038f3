"""An answer counts against CHAT_RATE_MAX_STREAMS (and its address's
CHAT_RATE_ADDRESS_MAX_STREAMS) from the moment it is asked for until it ends,
on every route that starts one, not only while a reader follows it."""

import socket
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.storage import queries
from app.storage.engine import session_for
from app.storage.models import Message, RateEvent, utcnow
from tests.conftest import API_KEY, HTMX, api_client
from tests.page_flow import post, read_all, send, subscribe
from tests.scripted_model import ScriptedChatModel

BURST = 15
STREAMING_LIMIT = "You already have 3 answers streaming"


def slow_model():
    return ScriptedChatModel(pieces=[f"p{i} " for i in range(150)], delay=0.01)


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def open_streams(app):
    with Session(app.extensions["limiter"].engine) as db:
        return db.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.kind == "stream"))


def streaming_answers(app):
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(Message).where(Message.outcome == queries.STREAMING))


@pytest.fixture(params=["machine", "database"])
def store(request):
    return request.param


def test_one_cookie_sending_fifteen_messages_gets_three_answers_written(make_app, store):
    app = make_app(chat_model=slow_model(), rate_max_streams=3, rate_address_max_streams=12, rate_limit_store=store)
    client = app.test_client()
    earlier, _body = send(client, "an earlier question")  # followed to its end: its slot is free again

    responses = [client.post("/messages", headers=HTMX, data={"message": f"question {i}"}) for i in range(BURST)]

    assert [r.status_code for r in responses] == [200] * 3 + [429] * (BURST - 3)
    for refused in responses[3:]:
        assert STREAMING_LIMIT in refused.get_data(as_text=True)
        assert 'hx-target="#composer-error"' in refused.get_data(as_text=True)
        assert int(refused.headers["Retry-After"]) >= 1
    assert streaming_answers(app) == 3
    # Regenerate and the page without JavaScript start answers too.
    regenerate = client.post(f"/c/{earlier}/regenerate", headers=HTMX)
    assert regenerate.status_code == 429 and STREAMING_LIMIT in regenerate.get_data(as_text=True)
    no_script = client.post("/messages", data={"message": "no script"})
    assert no_script.status_code == 429 and STREAMING_LIMIT in no_script.get_data(as_text=True)
    assert streaming_answers(app) == 3

    # One ends: its slot is free again, and only its slot.
    read_all(subscribe(client, responses[0].get_data(as_text=True)))
    wait_until(lambda: open_streams(app) == 2)
    assert client.post("/messages", headers=HTMX, data={"message": "now there is room"}).status_code == 200
    assert client.post("/messages", headers=HTMX, data={"message": "and no more"}).status_code == 429


def test_stop_frees_a_slot_at_once(make_app):
    app = make_app(chat_model=slow_model(), rate_max_streams=1)
    client = app.test_client()
    _conversation_id, answer_id, _html = post(client, "/messages", message="long")
    assert client.post("/messages", headers=HTMX, data={"message": "second"}).status_code == 429
    assert client.post(f"/answers/{answer_id}/stop", headers=HTMX).status_code == 200
    assert client.post("/messages", headers=HTMX, data={"message": "second"}).status_code == 200


def test_api_calls_sent_at_once_get_three_answers_written(make_app, store):
    app = make_app(chat_model=slow_model(), rate_max_streams=3, rate_address_max_streams=12, rate_limit_store=store,
                   api_keys=(API_KEY,))
    barrier = threading.Barrier(BURST)
    results = [None] * BURST

    def call(index):
        client = api_client(app)
        body = {"message": f"question {index}", "conversation_id": "new"} if index % 2 else {"message": "own"}
        barrier.wait()
        response = client.post("/api/chat/stream", json=body, buffered=False)
        results[index] = (response.status_code, response.get_json() if response.status_code != 200 else None)
        if response.status_code == 200:
            # Held open until the burst is over: each 200 is an answer being written.
            barrier_done.wait(60)
            response.close()

    barrier_done = threading.Event()
    threads = [threading.Thread(target=call, args=(index,)) for index in range(BURST)]
    for thread in threads:
        thread.start()
    wait_until(lambda: all(result is not None for result in results))
    statuses = sorted(status for status, _body in results)
    barrier_done.set()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 3 + [429] * (BURST - 3)
    for status, body in results:
        if status == 429:
            assert "already have 3 answers streaming" in body["error"]


def test_a_slot_held_by_a_dead_worker_is_freed_when_a_message_needs_it(make_app):
    app = make_app(chat_model=slow_model(), rate_max_streams=1)
    client = app.test_client()
    _conversation_id, answer_id, _html = post(client, "/messages", message="long")
    # Its worker claimed it and was killed: a process of this host that no longer runs.
    dead = f"{socket.gethostname()[:30]}:dead:{2**22 + 12345}"
    with app.extensions["db_engine"].begin() as connection:
        assert queries.claim_answer(connection, answer_id, dead, utcnow())
    assert open_streams(app) == 1

    assert client.post("/messages", headers=HTMX, data={"message": "after the crash"}).status_code == 200
    with session_for(app) as db:
        assert db.get(Message, answer_id).outcome == "interrupted"
