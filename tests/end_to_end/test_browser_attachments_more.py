"""Attached files in Chromium beyond the picker and the chips
(test_browser_attachments.py): a second tab of the same person, a phone
with touch at 375 px, the keyboard alone, axe-core with chips and an image
in the transcript (light and dark), the page without JavaScript, and Edit
and resend, whose question keeps its files and sends them to Gemini again
(the Vertex AI stand-in's request, byte for byte)."""

import re

import pytest

from deploy.stack import gunicorn
from tests.attachments.files import photo
from tests.end_to_end.conftest import gemini_env, watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe
from tests.end_to_end.test_browser_attachments import chips, inline_data
from tests.providers.vertex_standin import VertexStandIn

TIMEOUT_MS = 30000
PICTURE = photo(size=(300, 200))
NOTES = b"Budget: 1200 for travel, 300 for food.\n"
FILES = [
    {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": PICTURE},
    {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES},
]
PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="rest") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODEL="gemini-2.5-flash", CHAT_ATTACHMENT_MAX_MB="1")
    with gunicorn(tmp_path_factory.mktemp("attachments-more"), env) as (base, _log, _process):
        yield base


def send_with_files(page, text, files=FILES):
    page.set_input_files("#attach-files", files=files)
    page.fill("#message", text)
    page.locator("#composer button[type=submit]").click()
    page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)


def assert_files_shown(page):
    """The last question shows the photo's thumbnail (loaded) and the notes' chip."""
    question = page.locator(".message.user").last
    question.locator(".attachment-image img").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => [...document.querySelectorAll('.message.user .attachment-image img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)", timeout=TIMEOUT_MS)
    assert question.locator(".attachment-image img").get_attribute("alt") == "photo.jpg"
    assert "notes.txt" in question.locator(".attachment-chip").inner_text()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_second_tab_of_the_same_person_shows_the_files_and_after_a_reload(browser, server, standin):
    standin.respond(pieces=["A red ", "rectangle."])
    with watched_page(browser, server + "/") as watched:
        first = watched.page
        send_with_files(first, "What is in the picture?")
        second = first.context.new_page()
        second.goto(first.url)
        assert_files_shown(second)
        second.reload()
        assert_files_shown(second)
        second.close()


def test_on_a_phone_the_chips_fit_a_tap_removes_one_and_send_sends_the_rest(browser, server, standin):
    standin.respond(pieces=["Got ", "it."])
    with watched_page(browser, server + "/", **PHONE) as watched:
        page = watched.page
        with page.expect_file_chooser() as chooser:
            page.locator("label[for=attach-files]").tap()
        chooser.value.set_files([*FILES, {"name": "a-rather-long-file-name-that-must-wrap-on-a-phone-screen.txt",
                                          "mimeType": "text/plain", "buffer": b"long name"}])
        assert chips(page).count() == 3
        assert no_horizontal_scroll(page), "the chips fit the phone's width"
        for chip in range(3):
            box = chips(page).nth(chip).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.get_by_role("button", name="Remove a-rather-long-file-name-that-must-wrap-on-a-phone-screen.txt").tap()
        assert chips(page).count() == 2
        page.fill("#message", "Two files")
        page.get_by_role("button", name="Send", exact=True).tap()
        page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
        assert_files_shown(page)
        assert no_horizontal_scroll(page), "the transcript's files fit the phone's width"
        assert inline_data(standin.requests[-1]) == [("image/jpeg", PICTURE), ("text/plain", NOTES)]


def test_with_the_keyboard_alone_attach_remove_and_send(browser, server, standin):
    standin.respond(pieces=["Read ", "it."])
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.focus("#message")
        for _ in range(8):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "attach-files":
                break
        assert page.evaluate("document.activeElement.id") == "attach-files"
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files([*FILES, {"name": "draft.md", "mimeType": "text/markdown", "buffer": b"# no"}])
        assert chips(page).count() == 3
        # The chips' remove buttons come after the input in the Tab order.
        for _ in range(4):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remove draft.md":
                break
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remove draft.md"
        page.keyboard.press("Enter")
        assert chips(page).count() == 2
        assert page.evaluate("document.activeElement.id") == "attach-files", "focus is not lost with the chip"
        page.keyboard.press("Shift+Tab")
        while page.evaluate("document.activeElement.id") != "message":
            page.keyboard.press("Shift+Tab")
        page.keyboard.type("Which costs more?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
        assert_files_shown(page)
        assert inline_data(standin.requests[-1]) == [("image/jpeg", PICTURE), ("text/plain", NOTES)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_axe_finds_nothing_serious_with_chips_and_with_an_image_in_the_transcript(browser, server, standin,
                                                                                  scheme, device):
    standin.respond(pieces=["A red ", "rectangle."])
    options = PHONE if device == "phone" else {}
    with watched_page(browser, server + "/", color_scheme=scheme, **options) as watched:
        page = watched.page
        page.context.add_init_script(path=str(AXE))
        page.reload()
        page.set_input_files("#attach-files", files=FILES)
        assert chips(page).count() == 2
        assert_no_blocking(axe(page), f"with chips in the composer ({scheme}, {device})")
        page.fill("#message", "What is in the picture?")
        page.locator("#composer button[type=submit]").click()
        page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
        assert_files_shown(page)
        assert_no_blocking(axe(page), f"with an image and a file in the transcript ({scheme}, {device})")
        page.locator(".message.user details.edit summary").click()
        page.locator(".message.user .edit-files").wait_for()
        assert_no_blocking(axe(page), f"with Edit open, naming the files it resends ({scheme}, {device})")
        page.reload()
        assert_files_shown(page)
        assert_no_blocking(axe(page), f"with the files after a reload ({scheme}, {device})")


def test_without_javascript_the_plain_form_sends_text_and_a_file(browser, server, standin):
    standin.respond(pieces=["Noted."])
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server + "/")
        page.set_input_files("#attach-files", files=FILES)
        page.fill("#message", "Sent without JavaScript")
        page.click("#composer button[type=submit]", no_wait_after=True)
        # not "load": the page's load event waits for the answer's frame
        page.wait_for_url(re.compile(r"/c/"), wait_until="commit")
        page.locator(".message.user .attachment-chip").wait_for(timeout=TIMEOUT_MS)
        assert_files_shown(page)
        assert "Sent without JavaScript" in page.locator(".message.user").last.inner_text()
        page.frame_locator("iframe.progressive").locator("#answer-end").wait_for(timeout=TIMEOUT_MS)
        assert inline_data(standin.requests[-1]) == [("image/jpeg", PICTURE), ("text/plain", NOTES)]
    finally:
        context.close()


def test_edit_and_resend_keeps_the_files_and_sends_them_to_gemini_again(browser, server, standin):
    standin.respond(pieces=["A red ", "rectangle."])
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        send_with_files(page, "Waht is in teh picture?")
        first_request = len(standin.requests)
        edit = page.locator(".message.user").last.locator("details.edit")
        edit.locator("summary").click()
        assert "photo.jpg" in edit.inner_text() and "notes.txt" in edit.inner_text(), "the form says what it keeps"
        edit.locator("textarea").fill("What is in the picture?")
        edit.get_by_role("button", name="Resend").click()
        page.wait_for_selector(".message.assistant.outcome-streaming", timeout=TIMEOUT_MS)
        page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
        assert page.locator(".message.user").count() == 1
        assert page.locator(".message.user").inner_text().startswith("What is in the picture?")
        assert_files_shown(page)
        assert len(standin.requests) == first_request + 1
        resent = standin.requests[-1]
        assert inline_data(resent) == [("image/jpeg", PICTURE), ("text/plain", NOTES)]
        assert "What is in the picture?" in str(resent.body["contents"][-1])
        page.reload()
        assert_files_shown(page)
