"""The wait a person can see, in a real Chromium: three people ask the local
model at once in one gunicorn worker; the first answer's bubble says the model
is loading, the others say how many answers are ahead of theirs, Stop ends an
answer while it waits, and the others are answered in turn."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import send, watched_page

# Every text the answers' status lines show, however briefly.
RECORD_STATUSES = """
window.statuses = [];
new MutationObserver(function (mutations) {
  mutations.forEach(function (mutation) {
    var node = mutation.target.nodeType === 1 ? mutation.target : mutation.target.parentElement;
    var status = node && node.closest && node.closest(".message.assistant .stream-status");
    if (status && status.textContent) window.statuses.push(status.textContent);
  });
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
QUESTION = "Count from 1 to 300, one number per line."


@pytest.fixture
def server(tmp_path, small_local_model):
    env = {"CHAT_PROVIDER": "local", "CHAT_LOCAL_MODEL_PATH": small_local_model, "CHAT_LOCAL_MAX_TOKENS": "400"}
    with gunicorn(tmp_path, env) as (base, _log, _process):
        yield base


def statuses(watched):
    return watched.page.evaluate("window.statuses")


def test_queued_answers_say_they_wait_and_stop_works_while_waiting(browser, server):
    with (watched_page(browser, server) as first, watched_page(browser, server) as second,
          watched_page(browser, server) as third):
        for person in (first, second, third):
            person.page.evaluate(RECORD_STATUSES)
        send(first.page, QUESTION)
        first.page.locator(".message.assistant").wait_for()
        send(second.page, QUESTION)
        second.page.locator(".message.assistant .stream-status", has_text="Waiting: 1 answer ahead").wait_for(
            timeout=60_000)
        send(third.page, QUESTION)
        third.page.locator(".message.assistant .stream-status", has_text="Waiting: 2 answers ahead").wait_for(
            timeout=60_000)

        third.page.get_by_role("button", name="Stop", exact=True).click()
        third.page.locator(".message.assistant.outcome-stopped").wait_for(timeout=30_000)
        assert second.page.locator(".message.assistant.outcome-streaming").count() == 1  # still in line or answering

        for person in (first, second):
            person.page.locator(".message.assistant.outcome-complete, .message.assistant.outcome-truncated").wait_for(
                timeout=180_000)
            answer = person.page.locator(".message.assistant .markdown").last.inner_text()
            assert answer.strip(), answer
        assert "Loading the offline model…" in statuses(first)
        assert statuses(second)[-1] == "Waiting: 1 answer ahead"
        assert "Waiting: 2 answers ahead" in statuses(third)
        assert third.page.locator(".message.assistant .markdown").last.inner_text().strip() == ""
