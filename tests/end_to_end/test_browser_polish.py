"""The page's finish, as a person meets it in Chromium: what Copy copies, the
tab's title and the conversation's controls right after the first message,
the list's order, one <h1>, a long conversation opening at its end, the
keyboard back in the box after Stop, and the page without JavaScript
promising only what works."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import send, watched_page

TIMEOUT_MS = 30000
ANSWER = "# Heading\n\nSome text.\n\n```bash\necho hi\n```\n\nThe end."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CHAT_FAKE_CHUNKS": "30", "CHAT_FAKE_CHUNK_MS": "40"}
    with gunicorn(tmp_path_factory.mktemp("polish"), env) as (base, _log, _process):
        yield base


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server + "/", permissions=["clipboard-read", "clipboard-write"]) as watched:
        yield watched.page


def answered(page, count):
    page.wait_for_function(
        "n => document.querySelectorAll('.message.assistant').length === n"
        " && !document.querySelector('.message.outcome-streaming')", arg=count, timeout=TIMEOUT_MS)
    return page.locator(".message.assistant").last


def test_copy_copies_the_answer_without_the_code_blocks_labels_and_then_resets(page):
    send(page, ANSWER)
    answer = answered(page, 1)
    copy = answer.locator(".actions .copy-button")
    copy.click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('The end.'))")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "echo hi" in copied and "Copy code" not in copied and "Heading" in copied
    assert copy.inner_text() == "Copied"
    page.wait_for_function("b => b.textContent === 'Copy'", arg=copy.element_handle(), timeout=10000)


def test_a_models_heading_is_not_a_second_h1(page):
    send(page, ANSWER)
    answered(page, 1)
    assert page.locator("h1").count() == 1
    assert page.locator(".message.assistant h2").inner_text() == "Heading"


def test_a_new_conversation_has_its_title_and_controls_at_once_and_moves_up_when_used(page):
    send(page, "# Apples **and** pears")
    answered(page, 1)
    assert page.title() == "Apples and pears · Chat"
    assert page.locator(".chat-header summary", has_text="Rename").is_visible()
    assert page.locator(".chat-header summary", has_text="Delete").is_visible()
    first_url = page.url

    page.goto(page.url.split("/c/")[0] + "/")
    send(page, "Bananas")
    answered(page, 1)
    assert page.locator("#conversation-list a").all_inner_texts()[:2] == ["Bananas", "Apples and pears"]

    page.goto(first_url)
    send(page, "More about apples")
    answered(page, 2)
    assert page.locator("#conversation-list a").all_inner_texts()[:2] == ["Apples and pears", "Bananas"]
    assert page.locator("#conversation-list a[aria-current=page]").inner_text() == "Apples and pears"


def test_a_long_conversation_opens_at_its_newest_exchange(page):
    for i in range(4):
        send(page, f"question {i} " + "with a long text " * 40)
        answered(page, i + 1)
    page.reload()
    page.wait_for_function("() => window.scrollY > 0")
    assert page.locator(".message.assistant").last.is_visible()
    box = page.locator(".message.assistant").last.bounding_box()
    assert box["y"] < 900, "the newest answer is on screen"


def test_after_stop_the_keyboard_is_back_in_the_box(page):
    send(page, "a long answer to stop " * 8)
    page.wait_for_selector(".message.outcome-streaming", timeout=TIMEOUT_MS)
    page.locator(".stop-button").click()
    stopped = page.locator(".message.assistant.outcome-stopped")
    stopped.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'message'")
    assert page.locator("#announcer").inner_text() == "Answer stopped."
    assert stopped.get_by_role("button", name="Copy").is_visible()
    assert stopped.get_by_role("button", name="Regenerate").is_visible()


def test_enter_in_the_edit_box_resends_and_cancel_folds_it_away(page):
    send(page, "first version")
    answered(page, 1)
    edit = page.locator("details.edit")
    edit.locator("summary").click()
    edit.get_by_role("button", name="Cancel").click()
    assert not edit.evaluate("d => d.open")
    assert page.evaluate("document.activeElement.textContent") == "Edit"
    edit.locator("summary").click()
    box = edit.locator("textarea")
    box.fill("second version")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.message.user .text')].map(e => e.textContent).join() === 'second version'"
        " && !document.querySelector('.message.outcome-streaming')", timeout=TIMEOUT_MS)


def test_a_quotation_is_marked_as_one(page):
    send(page, "> quoted words\n\nand mine")
    answer = answered(page, 1)
    width = answer.locator("blockquote").evaluate("q => parseFloat(getComputedStyle(q).borderLeftWidth)")
    assert width >= 3


def test_without_javascript_copy_is_not_offered_and_enter_is_not_promised(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.fill("#message", "plain form")
    page.click("#composer button[type=submit]", no_wait_after=True)
    page.wait_for_url("**/c/**", wait_until="commit")
    url = page.url.split("#")[0]
    for _attempt in range(120):  # reload until the answer is written (no script updates this page)
        page.goto(url)
        if page.locator(".message.assistant.outcome-complete").count():
            break
        page.wait_for_timeout(250)
    assert page.get_attribute("#message", "placeholder") == "Ask anything"
    assert not page.locator(".copy-button").first.is_visible()
    context.close()


def test_on_a_phone_the_conversation_list_folds_away_on_escape_or_a_tap_elsewhere(browser, server):
    phone = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True}
    with watched_page(browser, server + "/", **phone) as watched:
        page = watched.page
        summary = page.locator("details.conversations summary")
        summary.tap()
        assert page.locator("details.conversations").evaluate("d => d.open")
        page.keyboard.press("Escape")
        assert not page.locator("details.conversations").evaluate("d => d.open")
        summary.tap()
        page.locator("#transcript").tap()
        assert not page.locator("details.conversations").evaluate("d => d.open")
