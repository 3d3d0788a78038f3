"""In a burst, every waiting request asks its model before any saves and
renders (app/answers/models_first.py, app/answers/exchanges.py)."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from app.answers import exchanges
from app.answers.models_first import let_waiting_requests_start
from app.storage.engine import session_for
from app.storage.models import Message
from tests.conftest import HTMX
from tests.scripted_model import ScriptedChatModel
from tests.web.test_conversations import send


class WorkerStopping(BaseException):
    """What gevent raises in a greenlet that is killed while it waits."""


def messages_in(app):
    with session_for(app) as db:
        return db.query(Message).count()


def asked(model, times, seconds=5):
    deadline = time.monotonic() + seconds
    while len(model.received) < times and time.monotonic() < deadline:
        time.sleep(0.005)
    return len(model.received) >= times


def test_the_model_is_asked_before_the_wait_and_nothing_is_saved_or_held_during_it(make_app, monkeypatch):
    model = ScriptedChatModel(pieces=["an ", "answer"])
    app = make_app(chat_model=model)
    client = app.test_client()
    conversation_id, _ = send(client, "first")
    seen = []

    def wait(limit_seconds, _answered):
        seen.append({
            "limit": limit_seconds,
            "model asked": asked(model, len(seen) + 2),
            "connections held": app.extensions["db_engine"].pool.checkedout(),
            "messages": messages_in(app),
        })

    monkeypatch.setattr(exchanges, "let_waiting_requests_start", wait)
    send(client, "a new conversation")
    send(client, "a follow-up", conversation_id)
    limit = app.config["CHAT"].burst_yield_seconds
    assert seen == [
        {"limit": limit, "model asked": True, "connections held": 0, "messages": 2},  # only "first" and its answer
        {"limit": limit, "model asked": True, "connections held": 0, "messages": 4},
    ]
    assert messages_in(app) == 6


def test_a_redo_does_not_wait_while_it_holds_its_removals(make_app, monkeypatch):
    app = make_app(chat_model=ScriptedChatModel(pieces=["again"]))
    client = app.test_client()
    conversation_id, _ = send(client, "question")
    monkeypatch.setattr(exchanges, "let_waiting_requests_start", lambda *_: pytest.fail("waited"))
    response = client.post(f"/c/{conversation_id}/regenerate", headers=HTMX)
    assert response.status_code == 200 and b"again" in response.data


def test_a_worker_stopping_during_the_wait_stops_the_model_and_saves_nothing(make_app, monkeypatch):
    model = ScriptedChatModel(pieces=["a", "b", "c", "d"], delay=0.1)
    app = make_app(chat_model=model)

    def stopped(*_):
        raise WorkerStopping()

    monkeypatch.setattr(exchanges, "let_waiting_requests_start", stopped)
    with pytest.raises(WorkerStopping):
        app.test_client().post("/messages", headers=HTMX, data={"message": "never saved"})
    assert model.closed.wait(5), "the model, already asked, is stopped"
    assert model.yielded < len(model.pieces)
    assert messages_in(app) == 0


def test_without_gevent_there_is_nothing_to_wait_for():
    started = time.monotonic()
    let_waiting_requests_start(30, threading.Event())
    assert time.monotonic() - started < 10  # it would have waited 30 s


GEVENT_WORKER = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import threading, time
    import gevent
    from app.answers.models_first import let_waiting_requests_start, under_gevent

    order = []

    def request(name):
        order.append("ask " + name)
        let_waiting_requests_start(30, threading.Event())
        order.append("save " + name)

    gevent.joinall([gevent.spawn(request, name) for name in "abc"])
    print(" ".join(order))

    started = time.monotonic()
    let_waiting_requests_start(30, threading.Event())  # nothing else to run: back at once
    print(under_gevent(), time.monotonic() - started < 10)

    spinning = True
    def never_idle():
        while spinning:
            gevent.sleep(0)
    busy = gevent.spawn(never_idle)
    gevent.sleep(0)
    started = time.monotonic()
    let_waiting_requests_start(0.3, threading.Event())  # a worker that is never idle: the bound
    waited = time.monotonic() - started
    answered = threading.Event()
    gevent.spawn_later(0.05, answered.set)  # the model answers while the worker is busy
    started = time.monotonic()
    let_waiting_requests_start(30, answered)
    print(0.25 <= waited < 10, time.monotonic() - started < 10)
    spinning = False
    busy.join()
""")


def test_under_gevent_every_waiting_request_asks_before_any_saves():
    pytest.importorskip("gevent")
    result = subprocess.run([sys.executable, "-c", GEVENT_WORKER], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    order = lines[0].split()
    assert order[:6] == ["ask", "a", "ask", "b", "ask", "c"]
    assert order[6::2] == ["save"] * 3 and sorted(order[7::2]) == ["a", "b", "c"]
    # idle: at once; never idle: the bound; busy but the model answered: at once
    assert lines[1:] == ["True True", "True True"]


def test_the_reader_says_when_the_model_has_answered():
    from app.answers.reply_pipeline import start_reading

    model = ScriptedChatModel(pieces=["first", "second"], delay=0.5)
    reading = start_reading(model, [])
    assert not reading.answered.is_set()
    assert reading.answered.wait(5)
    assert not model.closed.is_set(), "set at the first piece, not at the end"
    assert reading.queue.get(timeout=5) == "first"
    reading.stop()
