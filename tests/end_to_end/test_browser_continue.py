"""Continue, as a person uses it in Chromium at 1280 px and on a 375 px
phone: an answer cut off at the length limit offers Continue; pressing it
streams the rest into the same bubble (the text grows in place, no new
question or answer appears) and the button is gone once the answer is
complete. A real gunicorn on Gemini over gRPC against the Vertex AI stand-in,
which also shows what the model was sent."""

import pytest
from playwright.sync_api import expect

from app.answers.continuation import CONTINUE_INSTRUCTION
from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env, send, watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe
from tests.providers.vertex_standin import Script, VertexStandIn

TIMEOUT_MS = 30000
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
FIRST = "The first part of a long"
REST = [" story, told", " slowly,", " to its very end."]


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="grpc") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODEL="gemini-2.5-flash")
    with gunicorn(tmp_path_factory.mktemp("continue"), env) as (base, _log, _process):
        yield base


@pytest.mark.parametrize("device, scheme", [(DESKTOP, "light"), (PHONE, "dark")], ids=["1280px-light", "375px-dark"])
def test_continue_streams_the_rest_into_the_same_bubble(browser, server, standin, device, scheme):
    standin.respond(
        Script(pieces=["The first part ", "of a long"], finish_reason="MAX_TOKENS"),
        # Slow enough that the bubble is seen streaming between its pieces.
        Script(pieces=REST, delay=0.4, finish_reason="STOP"),
    )
    with watched_page(browser, server + "/", color_scheme=scheme, **device) as watched:
        page = watched.page
        page.context.add_init_script(path=str(AXE))
        page.reload()
        send(page, "Tell me a long story.")
        bubble = page.locator(".message.assistant.outcome-truncated")
        bubble.wait_for(timeout=TIMEOUT_MS)
        answer_id = bubble.get_attribute("id")
        same = page.locator(f"#{answer_id}")
        button = same.get_by_role("button", name="Continue")
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= device["viewport"]["width"], "on screen"
        assert_no_blocking(axe(page), f"with a truncated answer offering Continue ({scheme})")

        if device is DESKTOP:  # by keyboard: it lands in the message box, as after Retry
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.tap()
        # The same bubble streams again, keeping its text and adding the rest.
        expect(same).to_have_class("message assistant outcome-streaming", timeout=TIMEOUT_MS)
        page.wait_for_function(
            """([id, first, next]) => {
                 const bubble = document.getElementById(id);
                 return bubble.classList.contains("outcome-streaming")
                     && bubble.innerText.includes(first) && bubble.innerText.includes(next);
               }""", arg=[answer_id, FIRST, REST[0].strip()], timeout=TIMEOUT_MS)
        expect(same.get_by_role("button", name="Stop")).to_be_visible()
        if device is DESKTOP:
            expect(page.locator("#message")).to_be_focused()

        page.wait_for_selector(f"#{answer_id}.outcome-complete", timeout=TIMEOUT_MS)
        assert same.locator(".markdown").inner_text().strip() == FIRST + "".join(REST)
        expect(same.get_by_role("button", name="Continue")).to_have_count(0)
        expect(same.get_by_role("button", name="Regenerate")).to_be_visible()
        assert page.locator(".message.assistant").count() == 1, "the answer went on; no new one"
        assert page.locator(".message.user").count() == 1, "and no new question"
        expect(page.locator("#announcer")).to_have_text("Answer complete.")

    sent = standin.requests[-1].texts
    assert sent[-2:] == [("model", FIRST), ("user", CONTINUE_INSTRUCTION)]
