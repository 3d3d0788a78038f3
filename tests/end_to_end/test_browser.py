"""The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright), against a real gunicorn with the fake provider."""

import re
import time

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import ANSWER, ARTIFACTS, Watched, answer_lengths_while_streaming, send


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "60"}
    with gunicorn(tmp_path_factory.mktemp("browser"), env) as (base, log, _process):
        yield base, log


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    watched = Watched(context.new_page())
    watched.page.goto(server[0] + "/")
    yield watched
    context.close()


def test_sending_shows_the_question_then_the_answer_growing_then_rendered_markdown(page):
    send(page.page, ANSWER)
    page.page.wait_for_selector(".message.user")
    assert "bold" in page.page.locator(".message.user").first.inner_text()
    lengths = answer_lengths_while_streaming(page.page)
    assert len(set(lengths)) >= 3, f"saw the answer at only these lengths: {sorted(set(lengths))}"
    answer = page.page.locator(".message.assistant").last
    answer.locator(".markdown strong").wait_for()
    assert answer.locator(".markdown strong").inner_text() == "bold"
    assert answer.locator(".code-block pre.highlight span").count() > 3, "code is highlighted"
    assert answer.locator(".code-block .copy-button").count() == 1
    assert page.page.input_value("#message") == "", "the box is cleared once the answer starts"
    assert re.search(r"/c/[\w-]{22}$", page.page.url), "the address bar shows the conversation"
    assert page.page.locator("#announcer").inner_text() == "Answer complete."
    assert page.errors == [], "no console errors (a CSP violation counts)"


def test_stop_mid_answer_stops_the_page_and_the_model(page, server):
    base, log = server
    send(page.page, "stop me " * 40)
    page.page.wait_for_selector(".message.assistant .stop-button")
    # (wait_for_function would need eval, which the page's CSP forbids)
    streamed = page.page.locator(".message.assistant .text").last
    while len(streamed.text_content()) <= 20:
        time.sleep(0.02)
    page.page.keyboard.press("Escape")
    # the stopped answer, rendered in place once the server has ended it
    page.page.wait_for_selector(".message.assistant.outcome-stopped")
    length = len(page.page.locator(".message.assistant .markdown").last.inner_text())
    time.sleep(1.0)
    assert len(page.page.locator(".message.assistant .markdown").last.inner_text()) == length, "the page stopped growing"
    assert "Stopped." in page.page.locator(".message.assistant").last.inner_text()
    deadline = time.monotonic() + 5
    while "stopped early" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "stopped early" in log.read_text(), "the model stream was closed on the server"
    page.page.reload()
    assert "Stopped." in page.page.locator(".message.assistant").last.inner_text(), "saved as stopped"
    assert page.errors == []


def test_markup_from_the_model_runs_nothing_and_shows_as_text(page):
    hostile = "<script>alert('s')</script> <img src=x onerror=alert('i')> [click](javascript:alert('j'))"
    send(page.page, hostile)
    page.page.wait_for_selector(".message.assistant.outcome-complete")
    answer = page.page.locator(".message.assistant").last
    text = answer.inner_text()
    assert "<script>alert('s')</script>" in text and "<img src=x onerror=alert('i')>" in text
    assert answer.locator("script, img").count() == 0
    assert answer.locator("a[href^='javascript']").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_screenshots_light_dark_and_phone(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    for name, options in {
        "light": {"viewport": {"width": 1200, "height": 800}, "color_scheme": "light"},
        "dark": {"viewport": {"width": 1200, "height": 800}, "color_scheme": "dark"},
        "phone": {"viewport": {"width": 375, "height": 740}, "color_scheme": "light", "is_mobile": True},
    }.items():
        context = browser.new_context(**options)
        watched = Watched(context.new_page())
        watched.page.goto(server[0] + "/")
        send(watched.page, ANSWER)
        watched.page.wait_for_selector(".message.assistant.outcome-complete")
        watched.page.screenshot(path=str(ARTIFACTS / f"chat-{name}.png"))
        if name == "phone":
            width = watched.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, "no sideways scrolling on a phone"
        assert watched.errors == []
        context.close()
