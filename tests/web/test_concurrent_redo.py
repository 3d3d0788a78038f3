"""Regenerate and Edit sent several times at once (a double click, a script)
on one conversation: one new answer is generated, every other request is
refused with a sentence the page shows, and none ends in a 500.

Real concurrent requests: a threaded server in this process, five requests
released together, on SQLite and on PostgreSQL.
"""

import re
import threading
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app.storage.engine import session_for
from app.storage.models import Message
from tests.conftest import HTMX, page_session, start_answer
from tests.scripted_model import ScriptedChatModel

AT_ONCE = 5
ALREADY_WRITING = "An answer is already being written for this question"


@contextmanager
def threaded_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def follow_to_the_end(browser, events_url):
    with browser.get(events_url, headers=HTMX, stream=True, timeout=60) as response:
        assert response.status_code == 200
        return b"".join(response.iter_content(None)).decode()


def at_once(browser, url, data):
    """POST `url` AT_ONCE times together, as the same browser: the responses."""
    barrier = threading.Barrier(AT_ONCE)
    responses = [None] * AT_ONCE

    def post(index):
        copy = requests.Session()  # a Session is not shared between threads
        copy.cookies.update(browser.cookies)
        copy.headers.update(browser.headers)
        barrier.wait()
        responses[index] = copy.post(url, headers=HTMX, data=data, timeout=60)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def stored_messages(app, conversation_id):
    with session_for(app) as db:
        return db.execute(select(Message.role, Message.content).where(Message.conversation_id == conversation_id)
                          .order_by(Message.id)).all()


@pytest.mark.parametrize("action, data", [("regenerate", {}), ("edit", {"message": "edited question"})])
def test_the_same_redo_sent_at_once_starts_one_answer(make_app, action, data):
    model = ScriptedChatModel(pieces=["the ", "answer"])
    app = make_app(chat_model=model)
    with threaded_server(app) as base:
        browser = page_session(base)
        bubbles, events_url = start_answer(browser, base, "first question")
        follow_to_the_end(browser, events_url)
        conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', bubbles).group(1)

        responses = at_once(browser, f"{base}/c/{conversation_id}/{action}", data)

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * (AT_ONCE - 1), [(r.status_code, r.text[:300]) for r in responses]
        for refused in (r for r in responses if r.status_code == 409):
            assert ALREADY_WRITING in refused.text and 'hx-target="#composer-error"' in refused.text
        started = next(r for r in responses if r.status_code == 200)
        new_events = base + re.search(r'hx-sse:connect="([^"]+)"', started.text).group(1).replace("&amp;", "&")
        assert "outcome-complete" in follow_to_the_end(browser, new_events)

    question = data.get("message", "first question")
    assert stored_messages(app, conversation_id) == [("user", question), ("assistant", "the answer")]
    assert len(model.received) == 2, "the model was asked once for the first answer and once again, no more"


def test_redo_while_the_answer_is_still_being_written_is_refused(make_app):
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(300)], delay=0.01)
    app = make_app(chat_model=model)
    with threaded_server(app) as base:
        browser = page_session(base)
        bubbles, events_url = start_answer(browser, base, "a long one")
        conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', bubbles).group(1)
        with browser.get(events_url, headers=HTMX, stream=True, timeout=60) as following:
            next(following.iter_content(None))  # it is being written
            for action, data in (("regenerate", {}), ("edit", {"message": "another"})):
                refused = browser.post(f"{base}/c/{conversation_id}/{action}", headers=HTMX, data=data, timeout=30)
                assert refused.status_code == 409 and ALREADY_WRITING in refused.text
            stopped = re.search(r'action="(/answers/\d+/stop)"', bubbles).group(1)
            assert browser.post(base + stopped, headers=HTMX, timeout=30).status_code == 200
            b"".join(following.iter_content(None))
        # Stopped, it may be answered again.
        assert browser.post(f"{base}/c/{conversation_id}/regenerate", headers=HTMX, timeout=30).status_code == 200
