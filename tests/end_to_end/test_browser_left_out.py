"""A long conversation with files in Chromium, on a real gunicorn against the
Vertex AI stand-in: when the model is not sent the whole conversation (its
oldest message past CHAT_HISTORY_MAX_TURNS, an earlier file past what one
request carries), the answer's bubble says so in plain words, and still
does after a reload, on a phone in the dark scheme too (axe-core finds
nothing serious in the bubble, in light and dark). The stand-in's
request shows what Gemini got: the newest file's bytes, and a note in place
of the file left out."""

import base64

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env, watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe
from tests.providers.vertex_standin import VertexStandIn

TIMEOUT_MS = 30000
OLD = b"o" * 800
NEW = b"n" * 600
SAID = ("The oldest message was not sent to the model (it does not fit its context). "
        "old.txt from an earlier message was not sent (too large together with the newer files).")


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="rest") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    # One file of at most 1,000 bytes a message, so one request carries
    # 1,000 bytes of files; four turns of history.
    env = gemini_env(standin, CHAT_MODEL="gemini-2.5-flash", CHAT_ATTACHMENT_MAX_MB="0.001",
                     CHAT_ATTACHMENTS_PER_MESSAGE="1", CHAT_HISTORY_MAX_TURNS="4")
    with gunicorn(tmp_path_factory.mktemp("left-out"), env) as (base, _log, _process):
        yield base


def ask(page, text, name, data, answers_before):
    page.set_input_files("#attach-files", files=[{"name": name, "mimeType": "text/plain", "buffer": data}])
    page.fill("#message", text)
    page.locator("#composer button[type=submit]").click()
    page.locator(".message.assistant.outcome-complete").nth(answers_before).wait_for(timeout=TIMEOUT_MS)


def last_answer(page):
    return "#" + page.locator(".message.assistant").last.get_attribute("id")


def sent_parts(request):
    return [part for content in request.body["contents"] for part in content.get("parts", [])]


def test_the_bubble_says_what_the_model_was_not_sent_and_a_reload_keeps_it(browser, server, standin):
    standin.respond(pieces=["Got ", "it."])
    with watched_page(browser, server + "/", viewport={"width": 1280, "height": 900}) as watched:
        page = watched.page
        ask(page, "Read this first.", "first.txt", b"f" * 10, 0)
        ask(page, "And this one.", "old.txt", OLD, 1)
        assert page.locator(".message.assistant .left-out").count() == 0, "so far the model got everything"
        ask(page, "And the newest.", "new.txt", NEW, 2)

        note = page.locator(".message.assistant").last.locator(".notice.left-out")
        assert note.inner_text() == SAID
        assert page.locator(".message.assistant .left-out").count() == 1
        parts = sent_parts(standin.requests[-1])
        assert [base64.b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p] == [NEW]
        assert any("[file old.txt left out:" in p.get("text", "") for p in parts)
        assert not any(p.get("text") == "Read this first." for p in parts), "the oldest message was not sent"

        page.context.add_init_script(path=str(AXE))
        page.reload()
        note = page.locator(".message.assistant").last.locator(".notice.left-out")
        assert note.inner_text() == SAID
        assert_no_blocking(axe(page, last_answer(page)), "in the answer that says what was left out")

        page.set_viewport_size({"width": 375, "height": 740})
        page.emulate_media(color_scheme="dark")
        page.reload()
        note = page.locator(".message.assistant").last.locator(".notice.left-out")
        note.scroll_into_view_if_needed()
        assert note.is_visible() and note.inner_text() == SAID
        box = note.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, "the note wraps within a phone's width"
        colour = note.evaluate("n => getComputedStyle(n).color")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert colour != background
        assert_no_blocking(axe(page, last_answer(page)), "in the note, on a phone in dark")
