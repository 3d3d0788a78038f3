"""A first visit and the keyboard, in Chromium against a real gunicorn (fake
provider, paced so an answer can be stopped): the greeting names the model
and sends an example prompt by click or by Enter; the skip link leads to the
box; each shortcut (new chat, the box, stop, copy the last answer) and the
list of them in a dialog that gives the keyboard back to where it was; links
in an answer open in a new tab; the stats line of an answer whose pieces came
back to back (Gemini on the Vertex AI stand-in); a 50,000-character message
goes through."""

import re

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env, send, watched_page
from tests.providers.vertex_standin import Script, VertexStandIn

TIMEOUT_MS = 30000
# 40 pieces 60 ms apart: an answer streams for about 2.5 s, time to stop it.
PACING = {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "60"}
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True},
}
# The class of the first element in the page that Tab can reach.
FIRST_FOCUSABLE = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
  .find((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length || e.classList.contains('skip-link'))
  .className"""
ACTIVE = "() => { const e = document.activeElement; return e && (e.id || e.className || e.tagName); }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("first-visit"), PACING) as (base, _log, _process):
        yield base


def active(page):
    return page.evaluate(ACTIVE)


def finished(page, count=1):
    answers = page.locator(".message.assistant:not(.outcome-streaming)")
    answers.nth(count - 1).wait_for(timeout=TIMEOUT_MS)
    return answers.nth(count - 1)


# --- first visit ------------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_a_first_visit_is_greeted_and_an_example_prompt_is_sent_by_a_click(browser, server, device):
    with watched_page(browser, server + "/", **DEVICES[device]) as watched:
        page = watched.page
        greeting = page.locator(".greeting")
        assert greeting.get_by_role("heading", name="What can I help with?").is_visible()
        assert "Answers come from a test model that repeats your message (fake-echo)." in greeting.inner_text()
        prompts = greeting.locator(".example-prompt")
        assert prompts.count() == 3
        for index in range(3):
            assert prompts.nth(index).is_visible()
        chosen = prompts.nth(1).inner_text()

        if device == "phone":
            prompts.nth(1).tap()
        else:
            prompts.nth(1).click()

        answer = finished(page)
        assert page.locator(".message.user .text").inner_text() == chosen
        assert answer.locator(".markdown").inner_text().strip() == chosen, "the fake model echoes the prompt"
        assert not greeting.is_visible(), "the greeting goes once the conversation has begun"
        assert page.locator("#message").input_value() == "", "the prompt was sent, not left in the box"
        assert active(page) == "message", "the keyboard stays in the box for the next question"
        assert re.search(r"/c/[\w-]+$", page.url)

        page.reload()
        assert page.locator(".greeting").count() == 0, "a conversation with messages has no greeting"


def test_an_example_prompt_is_reached_with_tab_and_sent_with_enter(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        first = page.locator(".example-prompt").first
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.classList.contains('example-prompt')"):
                break
        assert page.evaluate("() => document.activeElement.textContent") == first.inner_text()
        page.keyboard.press("Enter")
        answer = finished(page)
        assert answer.locator(".markdown").inner_text().strip() == first.inner_text()
        assert active(page) == "message"


def test_without_javascript_an_example_prompt_still_sends_itself(browser, server):
    with watched_page(browser, server + "/", java_script_enabled=False) as watched:
        page = watched.page
        prompt = page.locator(".example-prompt").last
        text = prompt.inner_text()
        prompt.click()
        page.wait_for_url(re.compile(r"/c/"))
        assert page.locator(".message.user .text").inner_text() == text


# --- skip link --------------------------------------------------------------------------------


def test_the_first_tab_reaches_the_skip_link_which_leads_to_the_box(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, "a first question")
        finished(page)
        page.reload()
        # Nothing before it takes the keyboard: Shift+Tab from the sidebar's
        # first control reaches it, and once more leaves the page.
        page.locator(".new-chat").focus()
        page.keyboard.press("Shift+Tab")
        skip = page.locator(".skip-link")
        assert page.evaluate("() => document.activeElement.className") == "skip-link"
        assert page.evaluate(FIRST_FOCUSABLE) == "skip-link"
        box = skip.bounding_box()
        assert box and box["y"] >= 0 and skip.is_visible(), "it shows where the keyboard is"
        assert skip.inner_text() == "Skip to the message box"
        page.keyboard.press("Enter")
        assert active(page) == "message"
        assert "#" not in page.url


# --- shortcuts --------------------------------------------------------------------------------


def test_ctrl_shift_o_opens_a_new_chat_with_the_keyboard_in_its_box(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, "something to leave")
        finished(page)
        conversation = page.url
        assert "/c/" in conversation
        page.locator(".new-chat").focus()
        page.keyboard.press("Control+Shift+O")
        page.wait_for_url(server + "/")
        page.locator(".greeting").wait_for()
        assert active(page) == "message"


def test_shift_escape_goes_to_the_box_and_does_not_stop_the_answer(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.fill("#message", "draft kept")
        page.locator(".new-chat").focus()
        page.keyboard.press("Shift+Escape")
        assert active(page) == "message"
        assert page.evaluate("() => document.getElementById('message').selectionStart") == len("draft kept")
        # Where the browser keeps Shift+Esc (Chrome's task manager), / does it.
        page.locator(".new-chat").focus()
        page.keyboard.press("/")
        assert active(page) == "message"
        assert page.locator("#message").input_value() == "draft kept", "the / is not typed into the draft"

        send(page, "words " * 60)
        page.locator(".message.assistant.outcome-streaming").wait_for()
        page.locator(".new-chat").focus()
        page.keyboard.press("Shift+Escape")
        assert active(page) == "message"
        answer = finished(page)
        assert "outcome-complete" in answer.get_attribute("class"), "Shift+Esc is not Esc: the answer went on"


def test_escape_stops_the_answer_and_the_keyboard_stays_in_the_box(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, "words " * 60)
        page.locator(".message.assistant.outcome-streaming").wait_for()
        page.keyboard.press("Escape")
        page.locator(".message.assistant.outcome-stopped").wait_for(timeout=TIMEOUT_MS)
        assert active(page) == "message"


def test_ctrl_shift_c_copies_the_last_answer_as_markdown(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        send(page, "The **first** answer")
        finished(page)
        send(page, "The *second* answer with `code`")
        answer = finished(page, 2)
        page.locator("#message").focus()
        page.keyboard.press("Control+Shift+C")
        copy = answer.locator(".copy-button[data-copy=answer]")
        page.wait_for_function("(button) => button.textContent === 'Copied'", arg=copy.element_handle())
        assert page.evaluate("() => navigator.clipboard.readText()") == "The *second* answer with `code`"
        assert page.locator("#announcer").inner_text() == "Copied the last answer."
        assert active(page) == "message", "copying does not move the keyboard"


# --- the list of shortcuts --------------------------------------------------------------------


def dialog_open(page):
    return page.evaluate("() => document.getElementById('shortcuts').open")


def test_question_mark_lists_the_shortcuts_and_escape_gives_the_keyboard_back(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.locator(".new-chat").focus()
        page.keyboard.press("?")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        dialog.wait_for()
        for shortcut in ("New chat", "Go to the message box", "Stop the answer being written", "Copy the last answer"):
            assert dialog.get_by_text(shortcut).is_visible()
        page.keyboard.press("Escape")
        assert not dialog_open(page)
        assert active(page) == "new-chat", "the keyboard is back on what it was on"


def test_question_mark_in_the_box_is_a_question_mark_and_ctrl_slash_opens_the_list(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.locator("#message").focus()
        page.keyboard.type("Why?")
        assert page.locator("#message").input_value() == "Why?"
        assert not dialog_open(page)
        page.keyboard.press("Control+/")
        page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
        page.get_by_role("button", name="Close").click()
        assert not dialog_open(page)
        assert active(page) == "message"
        assert page.locator("#message").input_value() == "Why?"


def test_the_shortcuts_button_opens_the_list_and_esc_returns_to_it_without_stopping_an_answer(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, "words " * 60)
        page.locator(".message.assistant.outcome-streaming").wait_for()
        button = page.get_by_role("button", name="Keyboard shortcuts")
        button.click()
        page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
        page.keyboard.press("Escape")
        assert not dialog_open(page)
        assert active(page) == "shortcuts-button"
        assert "outcome-complete" in finished(page).get_attribute("class"), "Esc closed the list, not the answer"


# --- small things -----------------------------------------------------------------------------


def test_links_in_an_answer_open_in_a_new_tab_without_a_way_back(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, "See [the docs](https://example.com/docs) and <https://example.org>.")
        links = finished(page).locator(".markdown a")
        assert links.count() == 2
        for link in links.all():
            assert link.get_attribute("target") == "_blank"
            assert {"noopener", "noreferrer"} <= set(link.get_attribute("rel").split())


def test_a_message_of_fifty_thousand_characters_is_answered(browser, server):
    message = ("A long pasted document. " * 2100)[:50_000]
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send(page, message)
        answer = finished(page)
        assert "outcome-complete" in answer.get_attribute("class")
        assert page.locator("#composer-error").inner_text() == ""
        assert len(page.locator(".message.user .text").inner_text()) == 50_000
        assert answer.locator(".markdown").inner_text().strip() == message.strip()


# --- the stats line, from Gemini ----------------------------------------------------------------


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="rest") as server:
        yield server


@pytest.fixture(scope="module")
def gemini_server(tmp_path_factory, standin):
    with gunicorn(tmp_path_factory.mktemp("first-visit-gemini"), gemini_env(standin)) as (base, _log, _process):
        yield base


def test_the_greeting_names_the_gemini_model(browser, gemini_server):
    with watched_page(browser, gemini_server + "/") as watched:
        assert "Answers come from Google Gemini (gemini-2.5-flash)." in watched.page.locator(".greeting").inner_text()


def test_the_stats_line_of_an_answer_whose_pieces_came_back_to_back(browser, gemini_server, standin):
    # The first piece after 0.5 s, then 30 pieces with nothing between them:
    # 100 tokens over the whole answer is at most 200 tokens/s (not the
    # thousands of "pieces/s" a rate over the pieces alone made of it).
    standin.respond(Script(pieces=[f"word{i} " for i in range(30)], stall_after=0, stall_seconds=0.5,
                           usage=(1200, 100, 0), prompt_details={"TEXT": 942, "IMAGE": 258}))
    with watched_page(browser, gemini_server + "/") as watched:
        page = watched.page
        send(page, "Say thirty words")
        stats = finished(page).locator(".stats").inner_text()
        assert "pieces/s" not in stats
        match = re.fullmatch(r"first words after (\d\.\d\d) s · ([\d.]+) tokens/s · "
                             r"1,200 in \(258 image\) · 100 out · cost < \$0\.01 \(estimate\)", stats.strip())
        assert match, stats
        assert float(match[1]) >= 0.5
        assert 10 <= float(match[2]) <= 200
