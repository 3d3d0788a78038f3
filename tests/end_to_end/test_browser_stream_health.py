"""An answer's stream that heals at once, and an answer that keeps what was
shown when the process writing it dies, in a real Chromium
(static/stream_health.js).

The fake model echoes the message, so every answer's final text is known.
"""

import os
import signal
import sqlite3
import time
from contextlib import closing

import pytest
from playwright.sync_api import expect

from deploy.stack import gunicorn
from tests.end_to_end.conftest import send
from tests.end_to_end.relay import Relay
from tests.end_to_end.test_browser_answers import (
    assert_finished_exactly, last_answer, open_page, wait_for_text, words, worker_pids,
)

# 60 pieces 150 ms apart (about nine seconds), heartbeats every second: a
# silent connection is given up after two.
STEADY = {"CHAT_FAKE_CHUNKS": "60", "CHAT_FAKE_CHUNK_MS": "150", "CHAT_CHECKPOINT_SECONDS": "0.2",
          "CHAT_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("stream-health"), STEADY) as (base, _log, _process):
        yield base


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context
    context.close()


@pytest.fixture
def relay(server):
    relay = Relay(("127.0.0.1", int(server.rsplit(":", 1)[1])))
    yield relay
    relay.close()


def page_errors(watched):
    """What the page logged, less the lines about the requests the test's
    network failed (the browser's own, and htmx's about its SSE errors)."""
    return [error for error in watched.errors
            if not error.startswith(("Failed to load resource", "htmx: htmx:sse:error"))]


# Everything the last answer's status line says from now on, in order.
RECORD_STATUS = """() => {
  const status = [...document.querySelectorAll('.stream-status')].pop();
  window.statusesSaid = [];
  new MutationObserver(() => window.statusesSaid.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


def test_a_frozen_connection_is_noticed_says_reconnecting_and_the_answer_completes_exactly(context, relay):
    watched = open_page(context, relay.url + "/")
    page = watched.page
    send(page, words("f"))
    wait_for_text(page, 40)
    page.evaluate(RECORD_STATUS)
    # The answer's stream goes silent (no bytes, no error: only the missing
    # heartbeats tell); the rest of the network works.
    with page.expect_request(lambda request: "/events" in request.url, timeout=20000) as reopened:
        relay.freeze(sent=b"/events")
    assert int(reopened.value.headers["last-event-id"]) > 0, "it picks up where the page is"
    assert_finished_exactly(page, words("f"))
    assert "Reconnecting…" in page.evaluate("window.statusesSaid")
    assert page_errors(watched) == []


def test_the_network_coming_back_reopens_the_stream_at_once(context, relay):
    watched = open_page(context, relay.url + "/")
    page = watched.page
    # A backoff far longer than this test: a stream that reopens has not waited it out.
    page.evaluate("htmx.config.sse = {reconnectDelay: 600000, reconnectMaxDelay: 600000}")
    send(page, words("o"))
    wait_for_text(page, 40)
    context.set_offline(True)
    relay.sever()  # the connections the network carried
    expect(last_answer(page).locator(".stream-status")).to_have_text("Reconnecting…", timeout=10000)
    with page.expect_request(lambda request: "/events" in request.url, timeout=15000) as reopened:
        context.set_offline(False)
    assert int(reopened.value.headers["last-event-id"]) > 0, "it picks up where the page is"
    assert_finished_exactly(page, words("o"))
    assert page_errors(watched) == []


# What a browser does when the tab is hidden and shown again, which a
# headless one never does by itself.
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_a_tab_shown_again_reopens_its_paused_stream_at_once(context, server):
    watched = open_page(context, server + "/")
    page = watched.page
    # A backoff far longer than this test: a stream that reopens has not waited it out.
    page.evaluate("htmx.config.sse = {reconnectDelay: 600000, reconnectMaxDelay: 600000}")
    send(page, words("v"))
    wait_for_text(page, 40)
    page.evaluate(SET_HIDDEN, True)  # the extension closes the stream of a hidden tab
    with page.expect_request(lambda request: "/events" in request.url, timeout=15000) as reopened:
        page.evaluate(SET_HIDDEN, False)
    assert int(reopened.value.headers["last-event-id"]) > 0, "it picks up where the page is"
    assert_finished_exactly(page, words("v"))
    assert page_errors(watched) == []


# Checkpoints 3 s apart while pieces come every 80 ms: the worker is killed
# after a checkpoint, once the page shows more than it saved.
RARE_CHECKPOINTS = {"CHAT_FAKE_CHUNKS": "80", "CHAT_FAKE_CHUNK_MS": "80", "CHAT_CHECKPOINT_SECONDS": "3"}

SHOWN = """() => {
  const answer = [...document.querySelectorAll('.message.assistant')].pop();
  return answer.querySelector('.markdown').innerText + answer.querySelector('.text').innerText;
}"""


def saved_answer(database):
    """The last answer's text as saved (its last checkpoint)."""
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute("SELECT content FROM messages WHERE role = 'assistant' ORDER BY id DESC").fetchone()
    return row[0] if row else ""


def shown_past_a_checkpoint(page, database, timeout=30):
    """What the page shows once it shows more than the saved text, saved at least once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        saved = saved_answer(database)
        shown = page.evaluate(SHOWN) if saved else ""
        if saved and len(shown.strip()) > len(saved) + 8:
            return shown
        time.sleep(0.03)
    raise AssertionError("the page never showed more than was saved")


def test_a_killed_worker_leaves_every_character_that_was_shown_and_says_what_was_not_saved(browser, tmp_path):
    with gunicorn(tmp_path, RARE_CHECKPOINTS) as (base, _log, master):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        watched = open_page(context, base + "/")
        send(watched.page, words("k", 80))
        shown = " ".join(shown_past_a_checkpoint(watched.page, tmp_path / "chat.sqlite3").split())
        [worker] = worker_pids(master)
        os.kill(worker, signal.SIGKILL)  # the one worker, which generates the answer
        answer = last_answer(watched.page)
        notice = answer.locator(".notice")
        notice.wait_for(timeout=30000)
        assert "outcome-interrupted" in answer.get_attribute("class")
        kept = " ".join(answer.locator(".markdown").inner_text().split())
        assert kept.startswith(shown), f"shown before the kill: {len(shown)} characters, kept: {len(kept)}"
        saved = answer.locator("template.answer-source").evaluate("t => t.content.textContent")
        assert 0 < len(saved) < len(kept)
        assert f"Its last {len(kept) + 1 - len(saved)} characters were shown here but not saved" in notice.inner_text()
        watched.page.reload()
        assert last_answer(watched.page).locator(".markdown").inner_text().strip() == saved.strip(), "a reload shows what was saved"
        context.close()
