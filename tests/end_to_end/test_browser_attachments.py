"""Attaching files in Chromium, on a real gunicorn against the Vertex AI
stand-in: the real file input, chips with a thumbnail and a remove button,
drag and drop, a pasted image, Send with the text, the thumbnail and the
download chip in the transcript and still there after a reload; a file too
large or of a type not allowed is named next to the box and the draft kept.
The stand-in's requests show Gemini got the file's bytes exactly."""

import base64

import pytest

from deploy.stack import gunicorn
from tests.attachments.files import photo
from tests.end_to_end.conftest import gemini_env, watched_page
from tests.providers.vertex_standin import VertexStandIn

TIMEOUT_MS = 30000
PICTURE = photo(size=(300, 200))
NOTES = b"Budget: 1200 for travel, 300 for food.\n"


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="rest") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODEL="gemini-2.5-flash", CHAT_ATTACHMENT_MAX_MB="1")
    with gunicorn(tmp_path_factory.mktemp("attachments"), env) as (base, _log, _process):
        yield base


def inline_data(request):
    return [(part["inlineData"]["mimeType"], base64.b64decode(part["inlineData"]["data"]))
            for content in request.body["contents"] for part in content.get("parts", []) if "inlineData" in part]


def chips(page):
    return page.locator("#attach-chips .attach-chip")


def test_pick_remove_send_and_see_the_files_after_a_reload(browser, server, standin):
    standin.respond(pieces=["A red ", "rectangle."])
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        assert ".png" in page.get_attribute("#attach-files", "accept")
        page.set_input_files("#attach-files", files=[
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": PICTURE},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES},
            {"name": "draft.md", "mimeType": "text/markdown", "buffer": b"# not this one"},
        ])
        assert chips(page).count() == 3
        assert chips(page).first.locator("img").count() == 1, "an image's chip shows a thumbnail"
        assert "notes.txt" in chips(page).nth(1).inner_text() and "text/plain" in chips(page).nth(1).inner_text()
        page.get_by_role("button", name="Remove draft.md").click()
        assert chips(page).count() == 2
        assert page.evaluate("document.getElementById('attach-files').files.length") == 2

        page.fill("#message", "What is in the picture?")
        page.locator("#composer button[type=submit]").click()
        page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
        assert chips(page).count() == 0, "sent files leave the composer"
        question = page.locator(".message.user").last
        thumbnail = question.locator(".attachment-image img")
        thumbnail.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_function("() => document.querySelector('.attachment-image img').naturalWidth > 0",
                               timeout=TIMEOUT_MS)
        assert "notes.txt" in question.locator(".attachment-chip").inner_text()
        assert inline_data(standin.requests[-1]) == [("image/jpeg", PICTURE), ("text/plain", NOTES)]

        page.reload()
        question = page.locator(".message.user").last
        assert question.locator(".attachment-image img").count() == 1
        download_url = question.locator(".attachment-chip").get_attribute("href")
        served = page.request.get(server + download_url)
        assert served.body() == NOTES and served.headers["content-disposition"].startswith("attachment")
        full = page.request.get(server + question.locator(".attachment-image").get_attribute("href"))
        assert full.status == 200 and full.headers["content-type"] == "image/jpeg"


def test_too_large_and_wrong_type_are_named_by_the_box_and_the_draft_is_kept(browser, server, standin):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.fill("#message", "my draft stays")
        page.set_input_files("#attach-files", files=[
            {"name": "huge.txt", "mimeType": "text/plain", "buffer": b"x" * 1_200_000},
            {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"},
            {"name": "fine.txt", "mimeType": "text/plain", "buffer": b"fine"},
        ])
        error = page.locator("#composer-error").inner_text()
        assert "huge.txt is 1.2 MB; the limit is 1.0 MB per file." in error
        assert "setup.exe: that type of file cannot be attached here" in error
        assert chips(page).count() == 1 and "fine.txt" in chips(page).first.inner_text()
        assert page.input_value("#message") == "my draft stays"


def test_a_dropped_file_and_a_pasted_image_become_chips(browser, server, standin):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.evaluate("""(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["dropped text"], "dropped.txt", {type: "text/plain"}));
            document.getElementById("transcript").dispatchEvent(
                new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: transfer}));
            const paste = new DataTransfer();
            paste.items.add(new File([new Uint8Array(bytes)], "image.png", {type: "image/png"}));
            document.getElementById("message").dispatchEvent(
                new ClipboardEvent("paste", {bubbles: true, cancelable: true, clipboardData: paste}));
        }""", list(photo("PNG")))
        assert chips(page).count() == 2
        assert "dropped.txt" in chips(page).first.inner_text()
        assert chips(page).nth(1).inner_text().startswith("pasted-")
        assert chips(page).nth(1).locator("img").count() == 1


def test_the_file_input_is_reached_with_the_keyboard(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.focus("#message")
        for _ in range(6):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "attach-files":
                break
        assert page.evaluate("document.activeElement.id") == "attach-files"
        assert page.locator("label[for=attach-files]").is_visible()
