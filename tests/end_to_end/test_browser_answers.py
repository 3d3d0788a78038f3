"""An answer outlives the request that asked for it, in a real Chromium:
Regenerate, Edit, Retry and Stop in place; reload, leaving, a second tab, a
cut network and a killed worker; and the page without JavaScript.

The fake model echoes the message, so every answer's final text is known
byte for byte.
"""

import os
import re
import signal
import subprocess
import time

import pytest
from playwright.sync_api import expect

from deploy.stack import gunicorn
from tests.end_to_end.conftest import Watched, send
from tests.end_to_end.relay import Relay

# 60 pieces 80 ms apart: about five seconds, long enough to act mid-answer.
SLOW = {"CHAT_FAKE_CHUNKS": "60", "CHAT_FAKE_CHUNK_MS": "80", "CHAT_CHECKPOINT_SECONDS": "0.2"}


def words(tag, count=60):
    return " ".join(f"{tag}{i:02d}" for i in range(count))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Two workers, so a subscription may land on either of them."""
    with gunicorn(tmp_path_factory.mktemp("answers"), {**SLOW, "GUNICORN_WORKERS": "2"}) as (base, log, process):
        yield base, log, process


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context
    context.close()


def open_page(context, url):
    watched = Watched(context.new_page())
    watched.page.goto(url)
    return watched


def last_answer(page):
    return page.locator(".message.assistant").last


def wait_for_text(page, at_least, timeout=20):
    """The last answer's text once it is at least `at_least` characters long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = page.locator(".message.assistant")
        if answers.count():
            text = answers.last.inner_text()
            if len(text) >= at_least:
                return text
        time.sleep(0.03)
    raise AssertionError(f"the answer did not reach {at_least} characters")


# Read in one step: the bubble may be replaced between two separate reads.
LAST_ANSWER = """() => {
  const answer = [...document.querySelectorAll('.message.assistant')].pop();
  if (!answer) return null;
  const part = (selector) => answer.querySelector(selector)?.innerText ?? '';
  return {streaming: answer.classList.contains('outcome-streaming'), shown: part('.markdown') + part('.text'),
          markdown: part('.markdown')};
}"""


def follow_to_the_end(page, timeout=30):
    """Sample the last answer's visible text until it has finished; return
    (the lengths seen while it streamed, its final text)."""
    lengths, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(LAST_ANSWER)
        if state and not state["streaming"]:
            return lengths, state["markdown"].strip()
        if state:
            lengths.append(len(state["shown"]))
        time.sleep(0.03)
    raise AssertionError("the answer did not finish")


def assert_streamed_cleanly(lengths, final):
    assert lengths == sorted(lengths), "the answer never went backwards"
    assert max(lengths, default=0) <= len(final) + 1, "nothing was shown twice"


def assert_finished_exactly(page, expected):
    _lengths, final = follow_to_the_end(page)
    assert final == expected
    answer = last_answer(page)
    assert "outcome-complete" in answer.get_attribute("class")
    assert "Interrupted" not in page.locator("#transcript").inner_text()


def test_regenerate_streams_its_new_answer_in_place(context, server):
    watched = open_page(context, server[0] + "/")
    send(watched.page, words("r"))
    assert_finished_exactly(watched.page, words("r"))
    last_answer(watched.page).get_by_role("button", name="Regenerate").click()
    watched.page.wait_for_selector(".message.assistant.outcome-streaming")
    lengths, final = follow_to_the_end(watched.page)
    assert len(set(lengths)) >= 3, "the new answer streamed"
    assert_streamed_cleanly(lengths, final)
    assert final == words("r")
    assert watched.page.locator(".message.assistant").count() == 1, "the old answer was replaced"
    assert "Interrupted" not in watched.page.locator("#transcript").inner_text()
    watched.page.reload()
    assert last_answer(watched.page).locator(".markdown").inner_text().strip() == words("r"), "saved complete"
    assert watched.errors == []


def test_edit_and_resend_streams_the_new_answer(context, server):
    watched = open_page(context, server[0] + "/")
    send(watched.page, "a typo in thsi question")
    assert_finished_exactly(watched.page, "a typo in thsi question")
    watched.page.locator("details.edit summary").click()
    watched.page.locator("details.edit textarea").fill(words("e"))
    watched.page.locator("details.edit").get_by_role("button", name="Resend").click()
    watched.page.wait_for_selector(".message.assistant.outcome-streaming")
    assert_finished_exactly(watched.page, words("e"))
    assert watched.page.locator(".message.user").count() == 1
    assert watched.page.locator(".message.user").inner_text().startswith(words("e"))
    assert watched.errors == []


def test_reload_mid_answer_shows_what_was_said_and_follows_it_to_the_end(context, server):
    watched = open_page(context, server[0] + "/")
    send(watched.page, words("l"))
    before = wait_for_text(watched.page, 40)
    watched.page.reload()
    lengths, final = follow_to_the_end(watched.page)
    assert lengths and lengths[-1] > len(before) and len(set(lengths)) >= 3, "it went on streaming after the reload"
    assert_streamed_cleanly(lengths, final)
    assert final == words("l")
    assert "Interrupted" not in watched.page.locator("#transcript").inner_text()
    assert watched.errors == []


def test_leaving_and_coming_back_finds_the_answer_still_being_written(context, server):
    watched = open_page(context, server[0] + "/")
    send(watched.page, words("b"))
    wait_for_text(watched.page, 30)
    watched.page.click("a.new-chat")
    watched.page.wait_for_url(server[0] + "/")
    time.sleep(1.0)  # away for a while: the answer goes on without a subscriber
    watched.page.locator("#conversation-list a").first.click()
    watched.page.wait_for_selector(".message.assistant")
    assert_finished_exactly(watched.page, words("b"))
    assert watched.errors == []


def test_a_second_tab_follows_the_same_answer_and_can_stop_it(context, server):
    first = open_page(context, server[0] + "/")
    send(first.page, words("t"))
    wait_for_text(first.page, 20)
    second = open_page(context, first.page.url)
    second.page.wait_for_selector(".message.assistant.outcome-streaming")
    wait_for_text(second.page, 60)
    second.page.get_by_role("button", name="Stop", exact=True).click()
    for tab in (first, second):
        last_answer(tab.page).locator(".notice").wait_for(timeout=5000)
        assert "Stopped." in last_answer(tab.page).inner_text()
    stopped = last_answer(first.page).locator(".markdown").inner_text().strip()
    assert words("t").startswith(stopped) and len(stopped) < len(words("t"))
    assert first.errors == [] and second.errors == []


def test_a_cut_network_says_reconnecting_and_resumes_byte_for_byte(context, server):
    relay = Relay(("127.0.0.1", int(server[0].rsplit(":", 1)[1])))
    try:
        watched = open_page(context, relay.url + "/")
        send(watched.page, words("c"))
        wait_for_text(watched.page, 40)
        relay.mode = "refuse"
        relay.sever()
        status = last_answer(watched.page).locator(".stream-status")
        status.wait_for(state="visible", timeout=10000)
        assert status.inner_text() == "Reconnecting…"
        time.sleep(1.0)
        relay.mode = "forward"
        lengths, final = follow_to_the_end(watched.page)
        assert_streamed_cleanly(lengths, final)
        assert final == words("c")
        assert "Interrupted" not in watched.page.locator("#transcript").inner_text()
    finally:
        relay.close()


def test_sending_while_the_server_is_unreachable_keeps_the_draft_and_says_so(context, server):
    relay = Relay(("127.0.0.1", int(server[0].rsplit(":", 1)[1])))
    try:
        watched = open_page(context, relay.url + "/")
        relay.mode = "refuse"
        relay.sever()  # the browser's open connections too
        send(watched.page, "a draft worth keeping")
        error = watched.page.locator("#composer-error")
        error.filter(has_text="cannot be reached").wait_for(timeout=10000)
        assert watched.page.input_value("#message") == "a draft worth keeping"
        relay.mode = "bad_gateway"
        relay.sever()
        watched.page.keyboard.press("Enter")
        error.filter(has_text="502").wait_for(timeout=10000)
        assert "Bad gateway" not in watched.page.locator("#transcript").inner_text(), "a proxy's page never lands"
        assert watched.page.input_value("#message") == "a draft worth keeping"
        relay.mode = "forward"
        watched.page.keyboard.press("Enter")
        assert_finished_exactly(watched.page, "a draft worth keeping")
    finally:
        relay.close()


def worker_pids(master):
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_a_killed_worker_is_said_clearly_and_retry_streams_a_new_answer(browser, tmp_path):
    with gunicorn(tmp_path, SLOW) as (base, _log, master):
        context = browser.new_context()
        watched = open_page(context, base + "/")
        send(watched.page, words("k"))
        wait_for_text(watched.page, 60)
        [worker] = worker_pids(master)
        os.kill(worker, signal.SIGKILL)  # the one worker, which generates the answer
        notice = last_answer(watched.page).locator(".notice")
        notice.wait_for(timeout=30000)
        assert "stopped before it finished" in notice.inner_text()
        kept = last_answer(watched.page).locator(".markdown").inner_text().strip()
        assert kept and words("k").startswith(kept), "what was said is kept"
        last_answer(watched.page).get_by_role("button", name="Retry").click()
        watched.page.wait_for_selector(".message.assistant.outcome-streaming")
        assert_finished_exactly(watched.page, words("k"))
        context.close()


def test_without_javascript_the_answer_appears_as_it_is_written_each_block_formatted_once_finished(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server[0] + "/")
    answer = f"**Bold** start.\n\nSecond *block*.\n\n{words('n', 30)}"
    page.fill("#message", answer)
    page.click("#composer button[type=submit]", no_wait_after=True)
    # not "load": the page's load event waits for the frame, that is, the answer
    page.wait_for_url(re.compile(r"/c/"), wait_until="commit")
    frame = page.frame_locator("iframe.progressive")
    lengths, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        lengths.append(len(frame.locator("#answer-text").inner_text()))
        if frame.locator("#answer-end").count():
            break
        time.sleep(0.05)
    assert len(set(lengths)) >= 3, f"the frame grew as the answer was written: {sorted(set(lengths))}"
    # The page's plain copy of the unfinished block is hidden (static/noscript.css);
    # its finished blocks and the frame's show the answer once, formatted.
    expect(page.locator(".message.assistant .text")).to_be_hidden()
    assert frame.locator("#answer-text strong").inner_text() == "Bold"
    assert frame.locator("#answer-text em").inner_text() == "block"
    shown = page.locator(".message.assistant .markdown").inner_text() + frame.locator("#answer-text").inner_text()
    assert shown.split() == f"Bold start. Second block. {words('n', 30)}".split()
    frame.get_by_role("link", name="Show it with its formatting").click()
    page.wait_for_selector(".message.assistant.outcome-complete")
    assert page.locator(".message.assistant .markdown strong").inner_text() == "Bold"
    context.close()
