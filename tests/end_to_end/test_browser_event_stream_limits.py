"""A window over the bound of readers per answer (app/web/event_stream_limits.py),
in a real Chromium: the page says why the answer does not show yet, waits
its turn, and shows the whole answer once another window has let go."""

import re
from contextlib import ExitStack

import pytest
import requests

from app.web.event_stream_limits import READERS_PER_ANSWER
from deploy.stack import RATE_LIMITS, gunicorn
from tests.conftest import HTMX
from tests.end_to_end.conftest import send

# 40 pieces 150 ms apart: six seconds of an answer being written.
SLOW = {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "150", **RATE_LIMITS}
WAITING = "Too many windows are following answers"


@pytest.fixture
def server(tmp_path):
    with gunicorn(tmp_path, SLOW) as (base, _log, _process):
        yield base


def same_browser(context, base):
    """A requests.Session with the page's cookies: more windows of that browser."""
    other = requests.Session()
    for cookie in context.cookies(base):
        other.cookies.set(cookie["name"], cookie["value"])
    return other


def test_a_window_over_the_bound_waits_its_turn_then_shows_the_whole_answer(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        first = context.new_page()
        first.goto(server)
        text = " ".join(f"w{i:02d}" for i in range(40))
        send(first, text)
        first.wait_for_selector(".message.assistant.outcome-streaming")
        answer_id = re.search(r"m-(\d+)", first.locator(".message.assistant").last.get_attribute("id")).group(1)
        conversation = first.url
        with ExitStack() as windows:
            # The first page is one reader; these take the rest of the bound.
            other = same_browser(context, server)
            for _ in range(READERS_PER_ANSWER - 1):
                stream = other.get(f"{server}/answers/{answer_id}/events?offset=0", headers=HTMX,
                                   stream=True, timeout=60)
                windows.callback(stream.close)
                assert stream.status_code == 200
            second = context.new_page()
            second.goto(conversation)
            status = second.locator(".message.assistant").last.locator(".stream-status")
            status.filter(has_text=WAITING).wait_for(timeout=30_000)
        # The other windows are gone: the waiting one gets its turn.
        second.wait_for_selector(".message.assistant:not(.outcome-streaming)", timeout=60_000)
        shown = second.locator(".message.assistant").last.inner_text()
        assert text in shown and WAITING not in shown
    finally:
        context.close()
