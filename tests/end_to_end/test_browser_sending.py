"""Sending, as a person does it in Chromium: one message at a time. A double
click or Enter pressed twice sends once; while an answer is being written
Send is off and Enter says why, keeping the draft; when the answer ends (or
is stopped) the draft can be sent."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import watched_page

SLOW = {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "60"}
TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("sending"), SLOW) as (base, _log, _process):
        yield base


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server + "/") as watched:
        yield watched.page


def send_button(page):
    return page.locator("#composer button[type=submit]")


def wait_until_answered(page, count):
    page.wait_for_function(
        "n => document.querySelectorAll('.message.assistant').length === n"
        " && !document.querySelector('.message.outcome-streaming')", arg=count, timeout=TIMEOUT_MS)


def test_a_double_click_and_a_double_enter_send_once(page):
    page.fill("#message", "only once please")
    send_button(page).dblclick()
    wait_until_answered(page, 1)
    page.fill("#message", "and this once too")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    wait_until_answered(page, 2)
    assert page.locator(".message.user .text").all_inner_texts() == ["only once please", "and this once too"]
    assert page.locator("#conversation-list li.conversation-item").count() == 1, "one conversation"
    page.reload()
    assert page.locator(".message.user").count() == 2, "saved once each"


def background(locator):
    return locator.evaluate("element => getComputedStyle(element).backgroundColor")


def test_while_an_answer_is_written_send_waits_and_the_draft_is_kept(page):
    ready = background(send_button(page))
    page.fill("#message", "a first question that takes a while to answer")
    page.keyboard.press("Enter")
    page.wait_for_selector(".message.outcome-streaming", timeout=TIMEOUT_MS)
    assert send_button(page).is_disabled()
    assert background(send_button(page)) != ready, "Send looks off while it is off"
    page.fill("#message", "my next question")
    page.keyboard.press("Enter")
    assert "still being written" in page.locator("#composer-error").inner_text()
    assert page.input_value("#message") == "my next question"
    assert page.locator(".message.user").count() == 1

    wait_until_answered(page, 1)
    assert send_button(page).is_enabled()
    assert background(send_button(page)) == ready
    page.keyboard.press("Enter")
    wait_until_answered(page, 2)
    assert page.locator(".message.user .text").last.inner_text() == "my next question"
    assert page.input_value("#message") == ""


def test_stop_lets_the_next_message_go(page):
    page.fill("#message", "a long one to stop " * 5)
    page.keyboard.press("Enter")
    page.wait_for_selector(".message.outcome-streaming", timeout=TIMEOUT_MS)
    page.keyboard.press("Escape")
    page.wait_for_selector(".message.assistant.outcome-stopped", timeout=TIMEOUT_MS)
    assert send_button(page).is_enabled()
    page.fill("#message", "after the stop")
    send_button(page).click()
    wait_until_answered(page, 2)
    assert page.locator(".message.user .text").last.inner_text() == "after the stop"


WATCH_QUESTIONS = """() => {
  window.seenQuestions = [];
  new MutationObserver(changes => changes.forEach(change => change.addedNodes.forEach(node => {
    if (!node.classList || !node.classList.contains("user")) return;
    window.seenQuestions.push({pending: node.classList.contains("pending"),
                               text: node.querySelector(".text").textContent,
                               sendOff: document.querySelector("#composer button[type=submit]").disabled});
  }))).observe(document.getElementById("transcript"), {childList: true});
}"""


def test_the_question_shows_at_once_while_it_is_sent(page):
    """Before the server has answered the POST, the question is on screen,
    marked as being sent, and Send is off; the server's bubble replaces it."""
    page.evaluate(WATCH_QUESTIONS)
    page.fill("#message", "shown before the server answers")
    page.keyboard.press("Enter")
    wait_until_answered(page, 1)
    text = "shown before the server answers"
    assert page.evaluate("window.seenQuestions") == [
        {"pending": True, "text": text, "sendOff": True},
        {"pending": False, "text": text, "sendOff": True},
    ]
    assert page.locator(".message.user.pending").count() == 0
    assert page.locator(".message.user .text").all_inner_texts() == [text]
