"""Your data, as a person uses it in Chromium: download the export with its
files from the account area, delete everything (typing DELETE), import the
file, and find the conversations back in the sidebar with their messages
and their file; the page fits a phone and passes axe-core, light and dark."""

import json

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import Watched, send, watched_page
from tests.end_to_end.test_accessibility import AXE, DEVICES, SCHEMES, assert_no_blocking, axe
from tests.end_to_end.test_browser_library import answered

TIMEOUT_MS = 30000
NOTES = b"The meeting moved to Thursday, room 4.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("your-data")
    with gunicorn(folder, {"CHAT_FAKE_CHUNKS": "3", "CHAT_FAKE_CHUNK_MS": "5"}) as (base, _log, _process):
        yield base


def refused_page_logged(page):
    """Chromium logs a page answered with 400 as a console error, a moment
    after the page shows: wait for it, so it is cleared and not counted."""
    return page.expect_console_message(lambda message: message.type == "error" and "400" in message.text,
                                       timeout=TIMEOUT_MS)


def sidebar_titles(page):
    return page.locator("#conversation-list li:not(.load-more) a").all_inner_texts()


def test_export_delete_everything_import_and_see_it_all_back(browser, server):
    with watched_page(browser, server + "/", accept_downloads=True) as watched:
        page = watched.page
        page.set_input_files("#attach-files", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                      "buffer": NOTES}])
        send(page, "Summarise my notes")
        answered(page, 1)
        send(page, "And which room?")
        answered(page, 2)
        page.get_by_role("link", name="+ New chat").click()
        page.wait_for_url(server + "/")  # the new chat's page, before its box is typed in
        page.wait_for_function("() => !document.querySelector('.message')")
        send(page, "What is a tide?")
        answered(page, 1)
        titles = sidebar_titles(page)
        assert sorted(titles) == ["Summarise my notes", "What is a tide?"]

        page.get_by_role("link", name="Your data: export, import, delete").click()
        page.wait_for_url("**/account/data")
        assert "You keep 2 conversations, 6 messages and 1 attached file here." in page.inner_text("main")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export all conversations with their attached files (JSON)").click()
        exported = download.value.path()
        document = json.load(open(exported, encoding="utf-8"))
        assert len(document["conversations"]) == 2
        assert download.value.suggested_filename.endswith("-with-files.json")

        page.get_by_label("Type DELETE to confirm").fill("DELETE")
        page.get_by_role("button", name="Delete all my data").click()
        page.get_by_role("status").filter(has_text="Deleted 2 conversations").wait_for(timeout=TIMEOUT_MS)
        assert "You keep 0 conversations, 0 messages and 0 attached files here." in page.inner_text("main")
        page.get_by_role("link", name="Back to the chat").click()
        page.locator("#message").wait_for()
        assert sidebar_titles(page) == []

        page.goto(server + "/account/data")
        page.get_by_label("Export file").set_input_files(exported)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_role("status").filter(has_text="Imported 2 conversations").wait_for(timeout=TIMEOUT_MS)
        # Importing the same file again adds nothing.
        page.get_by_label("Export file").set_input_files(exported)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_role("status").filter(has_text="Imported 0 conversations; 2 were here already").wait_for(
            timeout=TIMEOUT_MS)

        page.get_by_role("link", name="Back to the chat").click()
        page.locator("#message").wait_for()
        assert sidebar_titles(page) == titles
        page.get_by_role("link", name="Summarise my notes").click()
        page.wait_for_url("**/c/*")
        questions = page.locator(".message.user")
        assert questions.count() == 2 and page.locator(".message.assistant.outcome-complete").count() == 2
        assert "Summarise my notes" in questions.first.inner_text() and "And which room?" in questions.last.inner_text()
        assert "notes.txt" in questions.first.locator(".attachment-chip").inner_text()
        # The file itself came back: its link serves the same bytes.
        href = questions.first.locator("a.attachment-chip").get_attribute("href")
        assert page.request.get(server + href).body() == NOTES


def test_a_file_that_is_not_an_export_is_refused_beside_the_form(browser, server, tmp_path):
    not_an_export = tmp_path / "notes.json"
    not_an_export.write_text('{"format": "something else", "conversations": []}')
    with watched_page(browser, server + "/account/data") as watched:
        page = watched.page
        page.get_by_label("Export file").set_input_files(str(not_an_export))
        with refused_page_logged(page):
            page.get_by_role("button", name="Import", exact=True).click()
        alert = page.locator("#import-error")
        alert.wait_for(timeout=TIMEOUT_MS)
        assert 'its "format" must be "chat-export"' in alert.inner_text()
        assert "Nothing was imported." in alert.inner_text()
        watched.errors.clear()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", DEVICES)
def test_the_page_fits_a_phone_and_passes_axe(browser, server, scheme, device):
    context = browser.new_context(color_scheme=scheme, **DEVICES[device])
    context.add_init_script(path=str(AXE))
    try:
        watched = Watched(context.new_page())
        page = watched.page
        page.goto(server + "/account/data")
        # A refusal shown beside its form is part of the page too.
        page.get_by_label("Type DELETE to confirm").fill("DELETE")
        page.evaluate("document.getElementById('delete-confirm').value = 'nope'")
        with refused_page_logged(page):
            page.evaluate("document.querySelector('form.data-delete').submit()")
        page.locator("#delete-error").wait_for(timeout=TIMEOUT_MS)
        watched.errors.clear()
        assert_no_blocking(axe(page), f"on Your data ({scheme}, {device})")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        least = 44 if device == "phone" else 24
        for name in ("Import", "Delete all my data"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box["height"] >= least and box["x"] + box["width"] <= DEVICES[device]["viewport"]["width"]
        assert watched.errors == []
    finally:
        context.close()
