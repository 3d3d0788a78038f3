"""The composer, as a person uses it in Chromium at 1280 px with a mouse and
at 375 px on a touch screen (issue 32, points 4 to 6): the box grows with the
draft up to half the screen; a draft survives a reload and a visit to another
conversation, and goes once sent; a counter near the length limit counts as
the server does; an error beside the box goes when the draft changes; over
the rate limit the page says when the person can send again; on a phone
Enter makes a new line and Send sends; while an answer is written Stop takes
Send's place; and a person who scrolls up during an answer keeps their
reading position, with "Jump to the newest" to go back down.

Against a real gunicorn with the fake provider, which echoes the message in
as many pieces as CHUNKS allows, one every CHUNK_MS: a long message is an
answer that streams for a while."""

import re
from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from deploy.stack import gunicorn
from tests.end_to_end.conftest import watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe

LIMIT = 2000  # CHAT_MAX_MESSAGE_CHARS here
PER_MINUTE = 3  # CHAT_RATE_MESSAGES_PER_MINUTE: per browser, and each test is a new browser
SERVER_ENV = {
    "CHAT_FAKE_CHUNKS": "400", "CHAT_FAKE_CHUNK_MS": "60",
    "CHAT_MAX_MESSAGE_CHARS": str(LIMIT), "CHAT_RATE_MESSAGES_PER_MINUTE": str(PER_MINUTE),
}
TIMEOUT_MS = 30000

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True}
DEVICES = [pytest.param(DESKTOP, id="1280px-mouse"), pytest.param(PHONE, id="375px-touch")]

# An answer several screens long that takes about 24 s to write (400 pieces).
LONG = "\n\n".join(f"Line {n} of a long answer, written slowly enough to scroll up and read." for n in range(1, 26))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("composer"), SERVER_ENV) as (base, _log, _process):
        yield base


@pytest.fixture
def open_page(browser, server):
    """Opens the app's new chat on a device (context options); returns the Watched page."""
    with ExitStack() as pages:
        yield lambda device: pages.enter_context(watched_page(browser, server + "/", **device))


def is_phone(page):
    return page.evaluate("matchMedia('(pointer: coarse)').matches")


def send_button(page):
    return page.get_by_role("button", name="Send", exact=True)


def composer_stop(page):
    return page.locator("#composer-stop")


def send_now(page):
    """Sends what is in the box as a person on this device does: Enter with a
    keyboard, a tap on Send on a touch screen."""
    if is_phone(page):
        send_button(page).tap()
    else:
        page.locator("#message").press("Enter")


def ask(page, text):
    """Sends `text` and waits until its answer is complete."""
    done = page.locator(".message.assistant.outcome-complete").count()
    page.fill("#message", text)
    send_now(page)
    page.locator(".message.assistant.outcome-complete").nth(done).wait_for(timeout=TIMEOUT_MS)


def start_long_answer(page):
    page.fill("#message", LONG)
    send_now(page)
    page.locator(".message.assistant.outcome-streaming").wait_for(timeout=TIMEOUT_MS)


def streamed_length(page):
    return page.evaluate("(document.querySelector('.message.assistant.outcome-streaming') || {}).textContent?.length || 0")


def wait_for_more_text(page, than):
    page.wait_for_function(
        "n => (document.querySelector('.message.assistant.outcome-streaming')?.textContent.length || 0) > n",
        arg=than, timeout=TIMEOUT_MS)


def box_height(page):
    return page.locator("#message").evaluate("e => e.getBoundingClientRect().height")


@pytest.mark.parametrize("device", DEVICES)
def test_the_box_grows_with_the_draft_up_to_half_the_screen(open_page, device):
    page = open_page(device).page
    empty = box_height(page)
    page.fill("#message", "one\ntwo\nthree\nfour\nfive\nsix")
    six_lines = box_height(page)
    assert six_lines > empty + 40, "it grows with the lines"
    assert page.locator("#message").evaluate("e => e.scrollHeight <= e.clientHeight"), "all of it shows"

    page.fill("#message", "\n".join(f"line {n}" for n in range(80)))
    tall = box_height(page)
    half = device["viewport"]["height"] / 2
    assert half - 2 <= tall <= half + 1, f"about half the screen: {tall:.0f} px of {device['viewport']['height']}"
    assert page.locator("#message").evaluate("e => e.scrollHeight > e.clientHeight"), "the rest scrolls inside it"
    send = send_button(page).bounding_box()
    box = page.locator("#message").bounding_box()
    assert abs((send["y"] + send["height"]) - (box["y"] + box["height"])) <= 1, "Send stays at the foot of the box"
    assert send["y"] + send["height"] <= device["viewport"]["height"], "and on the screen"

    page.fill("#message", "")
    assert box_height(page) == empty, "empty again, it is as small as before"


def test_a_draft_survives_a_reload_and_switching_conversations(open_page):
    page = open_page(DESKTOP).page
    ask(page, "The first conversation")
    page.wait_for_url(re.compile(r"/c/[\w-]+$"))
    first = page.url
    page.locator("#message").press_sequentially("A draft for the first conversation")

    page.locator("a.new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.input_value("#message") == "", "each conversation has its own draft"
    page.locator("#message").press_sequentially("A draft")
    page.locator("#message").press("Shift+Enter")
    page.locator("#message").press_sequentially("for a new chat")
    page.reload()
    assert page.input_value("#message") == "A draft\nfor a new chat", "kept over a reload"
    assert page.locator("#message").evaluate("e => e.scrollHeight <= e.clientHeight"), "all of it in view"

    page.get_by_role("link", name="The first conversation").click()
    page.wait_for_url(first)
    assert page.input_value("#message") == "A draft for the first conversation"
    send_now(page)
    page.locator(".message.assistant.outcome-complete").nth(1).wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".message.user .text").last.inner_text() == "A draft for the first conversation"
    page.reload()
    assert page.input_value("#message") == "", "sent, the draft is gone"

    page.locator("a.new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.input_value("#message") == "A draft\nfor a new chat", "the other draft is untouched"
    page.locator("#message").press("Enter")
    page.wait_for_url(re.compile(r"/c/[\w-]+$"))
    page.locator(".message.assistant.outcome-complete").wait_for(timeout=TIMEOUT_MS)
    page.locator("a.new-chat").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.input_value("#message") == "", "a new chat's draft goes too once sent"


@pytest.mark.parametrize("device", DEVICES)
def test_a_counter_near_the_limit_counts_as_the_server_does_and_an_error_goes_when_the_draft_changes(open_page, device):
    watched = open_page(device)
    page = watched.page
    counter = page.locator("#composer-count")
    page.fill("#message", "a" * 1700)
    assert counter.is_hidden(), "far from the limit, no counter"
    page.fill("#message", "a" * 1850)
    assert counter.inner_text() == "1,850 / 2,000 characters"
    assert counter.is_visible()
    # A line break is sent as CR LF: two characters for the server.
    page.fill("#message", "a" * 1990 + "\n" * 6)
    assert counter.inner_text() == "2,002 / 2,000 characters: 2 over the limit"
    counter_box, box = counter.bounding_box(), page.locator("#message").bounding_box()
    assert counter_box["y"] >= box["y"] + box["height"] and counter_box["y"] + counter_box["height"] <= device["viewport"]["height"]

    send_now(page)
    error = page.locator("#composer-error")
    error.filter(has_text="That message is 2,002 characters long; the limit is 2,000.").wait_for()
    page.locator("#message").press("Backspace")
    assert error.is_hidden() and error.inner_text() == "", "the error goes as the draft changes"
    assert counter.inner_text() == "2,000 / 2,000 characters"
    expect(page.locator("#message")).to_have_accessible_description("2,000 / 2,000 characters")
    page.fill("#message", "short again")
    assert counter.is_hidden()
    expect(page.locator("#message")).to_have_accessible_description("")
    watched.errors[:] = [e for e in watched.errors if "413" not in e]


def test_over_the_rate_limit_the_page_says_when_to_send_again(open_page, browser):
    watched = open_page(DESKTOP)
    page = watched.page
    page.clock.install()  # flows as real time does, until the test moves it on
    page.reload()
    for n in range(PER_MINUTE):
        ask(page, f"question {n}")
    page.fill("#message", "one too many")
    page.locator("#message").press("Enter")
    page.locator("#composer-error").filter(has_text=f"You sent {PER_MINUTE} messages in a minute").wait_for()
    wait = page.locator("#composer-wait")
    seconds = int(re.fullmatch(r"You can send again in (\d+) s\.", wait.inner_text()).group(1))
    assert 1 <= seconds <= 60
    assert send_button(page).is_disabled()
    assert page.input_value("#message") == "one too many", "the draft is kept"
    page.wait_for_function(
        "n => Number(/in (\\d+) s/.exec(document.getElementById('composer-wait').textContent)?.[1]) < n",
        arg=seconds, timeout=TIMEOUT_MS)
    page.locator("#message").press("Enter")
    assert page.locator(".message.user").count() == PER_MINUTE, "Enter waits too"

    page.clock.fast_forward(seconds * 1000)
    page.wait_for_function("document.getElementById('composer-wait').hidden")
    assert send_button(page).is_enabled(), "the time has come: Send is on again"
    watched.errors[:] = [e for e in watched.errors if "429" not in e]


@pytest.mark.parametrize("device", DEVICES)
def test_the_keys_do_what_the_placeholder_says_on_each_device(open_page, device):
    page = open_page(device).page
    box = page.locator("#message")
    box.fill("first line")
    if device is PHONE:
        assert box.get_attribute("placeholder") == "Ask anything (Enter for a new line, Send to send)"
        box.press("Enter")
    else:
        assert box.get_attribute("placeholder") == "Ask anything (Enter to send, Shift+Enter for a new line)"
        box.press("Shift+Enter")
    box.press_sequentially("second line")
    assert page.input_value("#message") == "first line\nsecond line"
    assert page.locator(".message.user").count() == 0, "nothing sent yet"
    if device is PHONE:
        send_button(page).tap()
    else:
        box.press("Enter")
    page.locator(".message.assistant.outcome-complete").wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".message.user .text").inner_text() == "first line\nsecond line"


@pytest.mark.parametrize("device", DEVICES)
def test_stop_takes_the_place_of_send_while_an_answer_is_written(open_page, device):
    page = open_page(device).page
    start_long_answer(page)
    stop = composer_stop(page)
    stop.wait_for()
    assert send_button(page).is_hidden()
    # Once the answer is taller than the screen, the composer is held at its foot.
    page.wait_for_function("document.documentElement.scrollHeight > innerHeight + 100", timeout=TIMEOUT_MS)
    page.evaluate("window.scrollTo(0, 0)")
    stop_at = stop.bounding_box()
    assert stop_at["y"] + stop_at["height"] <= device["viewport"]["height"], "on the screen, scrolled up too"

    if device is DESKTOP:
        page.fill("#message", "my next question")
        page.locator("#message").press("Enter")
        page.locator("#composer-error").filter(has_text="still being written").wait_for()
    stop.tap() if device is PHONE else stop.click()
    page.locator(".message.assistant.outcome-stopped").wait_for(timeout=TIMEOUT_MS)
    send_button(page).wait_for()
    assert stop.is_hidden() and send_button(page).is_enabled()
    send_at = send_button(page).bounding_box()
    for edge in ("x", "y"):
        size = "width" if edge == "x" else "height"
        assert abs(stop_at[edge] + stop_at[size] - (send_at[edge] + send_at[size])) <= 1, "Stop was where Send is"
    assert page.locator("#composer-error").inner_text() == "", "the note went with the answer"
    if device is DESKTOP:
        assert page.input_value("#message") == "my next question", "the draft stayed"


@pytest.mark.parametrize("device, scheme", [(DESKTOP, "light"), (PHONE, "dark")], ids=["1280px-light", "375px-dark"])
def test_reading_above_a_stream_is_never_moved_and_jump_to_the_newest_goes_down(open_page, device, scheme):
    page = open_page({**device, "color_scheme": scheme}).page
    page.context.add_init_script(path=str(AXE))  # from the next load on, past the page's CSP
    page.reload()
    jump = page.get_by_role("button", name="Jump to the newest")
    start_long_answer(page)
    page.wait_for_function(
        "document.documentElement.scrollHeight > 2 * innerHeight", timeout=TIMEOUT_MS)
    assert jump.is_hidden(), "at the bottom, the page follows the answer"
    page.mouse.move(device["viewport"]["width"] / 2, 200)
    page.mouse.wheel(0, -300)
    jump.wait_for()
    reading_at = page.evaluate("scrollY")
    assert reading_at > 0
    length = streamed_length(page)
    wait_for_more_text(page, length + 200)  # pieces arrive, finished blocks are swapped in
    assert page.evaluate("scrollY") == reading_at, "the reading position stays"
    assert jump.is_visible()
    box = jump.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= device["viewport"]["width"]
    assert box["y"] + box["height"] <= page.locator("#message").bounding_box()["y"], "above the box"
    assert_no_blocking(axe(page, "#composer"), f"in the composer with Jump and Stop ({scheme})")

    jump.tap() if device is PHONE else jump.click()
    at_bottom = "innerHeight + scrollY >= document.documentElement.scrollHeight - 2"
    assert page.evaluate(at_bottom)
    assert jump.is_hidden()
    wait_for_more_text(page, streamed_length(page) + 100)
    page.wait_for_function(at_bottom)  # following again
    composer_stop(page).click()
    page.locator(".message.assistant.outcome-stopped").wait_for(timeout=TIMEOUT_MS)
    assert jump.is_hidden()
