"""Gemini's controls in words, in Chromium: a real gunicorn on
provider=vertexai against the TLS Vertex AI stand-in, with three models. The
picker names each model with a label and a hint beside its id; "Think
before answering" follows the chosen model (disabled, with why, for one that
always thinks); an answer sent with it unticked reaches Gemini with a thinking
budget of 0; a thinking answer's folded section says how long it thought;
at 1280 px and 375 px, light and dark, axe-core finds nothing serious."""

import re

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env, send, watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe
from tests.providers.vertex_standin import Script, VertexStandIn

TIMEOUT_MS = 30000
MODELS = "gemini-2.5-flash,gemini-2.5-pro,gemini-2.5-flash-lite"
LABELS = [
    "Gemini 2.5 Flash — fast, everyday questions (gemini-2.5-flash)",
    "Gemini 2.5 Pro — deeper reasoning, slower (gemini-2.5-pro)",
    "Gemini 2.5 Flash-Lite — quickest, cheapest (gemini-2.5-flash-lite)",
]
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="grpc") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODELS=MODELS, CHAT_SEARCH="optional")
    with gunicorn(tmp_path_factory.mktemp("gemini-controls"), env) as (base, _log, _process):
        yield base


def finished(page, count):
    page.wait_for_function(
        "(n) => document.querySelectorAll('.message.assistant.outcome-complete').length >= n", arg=count,
        timeout=TIMEOUT_MS,
    )
    return page.locator(".message.assistant").last


def thinking_config(standin):
    return standin.requests[-1].body["generationConfig"].get("thinkingConfig", {})


@pytest.mark.parametrize("device", [{}, PHONE], ids=["1280px", "375px"])
def test_the_picker_in_words_and_a_message_sent_without_thinking(browser, server, standin, device):
    options = {"viewport": {"width": 1280, "height": 900}, **device}
    with watched_page(browser, server + "/", **options) as watched:
        page = watched.page
        labels = page.locator("#model-choice option").all_inner_texts()
        assert labels == LABELS
        switch = page.get_by_label("Think before answering")
        assert switch.is_checked() and switch.is_enabled(), "Flash thinks unless told"

        # Pro always thinks: the switch says so and cannot be unticked.
        page.select_option("#model-choice", "gemini-2.5-pro")
        assert switch.is_disabled() and switch.is_checked()
        assert page.locator("#thinking-hint").inner_text() == "Gemini 2.5 Pro always thinks"
        # Flash-Lite thinks only when asked.
        page.select_option("#model-choice", "gemini-2.5-flash-lite")
        assert switch.is_enabled() and not switch.is_checked()
        assert page.locator("#thinking-hint").inner_text() == ""

        page.select_option("#model-choice", "gemini-2.5-flash")
        assert switch.is_checked()
        switch.uncheck()
        standin.respond(Script(pieces=["No thinking ", "this time."]))
        send(page, "Answer at once, please.")
        answer = finished(page, 1)
        assert "No thinking this time." in answer.inner_text()
        request = standin.requests[-1]
        assert request.model == "gemini-2.5-flash"
        config = thinking_config(standin)
        assert int(config["thinkingBudget"]) == 0 and not config.get("includeThoughts")
        assert answer.locator("details.thinking").count() == 0

        # The picker fits the screen (its long labels do not widen the page).
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= options["viewport"]["width"], f"the page scrolls sideways: {width} px"


def test_a_thinking_answer_says_how_long_it_thought(browser, server, standin):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        assert page.get_by_label("Think before answering").is_checked()
        standin.respond(Script(thoughts=["**Weighing** the options, ", "then choosing."],
                               pieces=["Here ", "is ", "the answer."], delay=0.3))
        send(page, "Think it over.")
        answer = finished(page, 1)
        config = thinking_config(standin)
        assert int(config["thinkingBudget"]) == -1 and config["includeThoughts"] is True
        summary = answer.locator("details.thinking > summary")
        assert re.fullmatch(r"Thought for (under 1 s|\d+ s)", summary.inner_text().strip()), summary.inner_text()
        assert answer.locator("details.thinking").get_attribute("open") is None, "folded"
        summary.click()
        assert answer.locator("details.thinking strong").inner_text() == "Weighing"
        page.reload()
        assert re.fullmatch(r"Thought for (under 1 s|\d+ s)",
                            page.locator(".message.assistant details.thinking > summary").last.inner_text().strip())


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", [{}, PHONE], ids=["1280px", "375px"])
def test_the_controls_pass_axe(browser, server, scheme, device):
    options = {"viewport": {"width": 1280, "height": 900}, "color_scheme": scheme, **device}
    with watched_page(browser, server + "/", **options) as watched:
        page = watched.page
        page.add_init_script(path=str(AXE))
        page.reload()
        page.select_option("#model-choice", "gemini-2.5-pro")  # the disabled switch and its hint
        assert_no_blocking(axe(page, ".composer-options"), f"composer options ({scheme}, {options['viewport']})")
