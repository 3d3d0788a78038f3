"""Gemini's own strengths as a person uses them, in Chromium: a real gunicorn
on provider=vertexai (gRPC) against the TLS Vertex AI stand-in, with three
models to choose from and Google Search offered per message. Thinking streams
into its own section, which folds when the answer begins; a grounded answer
shows numbered citations and its sources, also after a reload; Regenerate
takes another model; instructions are set and edited; each answer and the
conversation show an estimated cost; axe-core finds nothing serious."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import ARTIFACTS, gemini_env, watched_page
from tests.end_to_end.test_accessibility import AXE, assert_no_blocking, axe
from tests.providers.vertex_standin import Script, VertexStandIn

TIMEOUT_MS = 30000
MODELS = "gemini-2.5-flash,gemini-2.5-pro,gemini-2.5-flash-lite"
THOUGHTS = ["**Finding the river**\n\nThe question names Zürich, ", "so I look up its river and its size."]
PIECES = ["Zürich is the largest city in Switzerland. ", "Its river is the **Limmat**, ",
          "which flows out of Lake Zürich.\n\n", "Ask me more about it."]
GROUNDING = {
    "sources": [("https://en.wikipedia.org/wiki/Z%C3%BCrich", "wikipedia.org"),
                ("https://www.zuerich.com/en/limmat", "zuerich.com")],
    "supports": [("Zürich is the largest city in Switzerland.", [0]),
                 ("Its river is the **Limmat**, which flows out of Lake Zürich.", [0, 1])],
    "queries": ["largest city in Switzerland", "river through Zürich"],
}


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="grpc") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODELS=MODELS, CHAT_SEARCH="optional", CHAT_SYSTEM_PROMPT="Answer briefly.")
    with gunicorn(tmp_path_factory.mktemp("gemini-features"), env) as (base, _log, _process):
        yield base


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server + "/") as watched:
        watched.page.add_init_script(path=str(AXE))
        watched.page.reload()
        yield watched.page


# Records every state the thinking section is seen in, so that the test does
# not race the stream: [open?, its text] each time the page changes.
WATCH_THINKING = """() => {
  window.thinkingSeen = [];
  new MutationObserver(() => {
    const section = document.querySelector('.message.assistant details.thinking');
    if (section) window.thinkingSeen.push([section.open, section.textContent]);
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def finished(page):
    page.wait_for_selector(".message.assistant.outcome-complete", timeout=TIMEOUT_MS)
    return page.locator(".message.assistant").last


def test_thinking_then_a_grounded_answer_with_citations_that_survive_a_reload(page, standin):
    standin.respond(Script(thoughts=THOUGHTS, pieces=PIECES, grounding=GROUNDING, delay=0.4,
                           usage=(1200, 180, 420)))
    page.select_option("#model-choice", "gemini-2.5-pro")
    page.get_by_label("Search Google").check()
    page.evaluate(WATCH_THINKING)
    page.fill("#message", "What is the river in Zürich?")
    page.keyboard.press("Enter")

    answer = finished(page)
    seen = page.evaluate("() => window.thinkingSeen")
    open_with_all = [i for i, (is_open, text) in enumerate(seen) if is_open and "its river" in text]
    assert open_with_all, "the thinking streamed into its section, open"
    assert not seen[-1][0], "and folded when the answer began"
    # The answer itself never holds the thoughts; they stay, rendered, in their section.
    assert "Finding the river" not in answer.locator(".markdown").inner_text()
    assert answer.locator("details.thinking strong").text_content() == "Finding the river"

    request = standin.requests[-1]
    assert request.model == "gemini-2.5-pro" and request.body["tools"] == [{"googleSearch": {}}]
    assert request.body["systemInstruction"]["parts"][0]["text"] == "Answer briefly."

    citations = answer.locator(".markdown sup.citations")
    assert citations.count() == 2
    assert [c.inner_text() for c in citations.all()] == ["1", "12"]
    first = citations.first.locator("a")
    assert first.get_attribute("href") == "https://en.wikipedia.org/wiki/Z%C3%BCrich"
    assert first.get_attribute("target") == "_blank" and "noopener" in first.get_attribute("rel")
    sources = answer.locator(".sources li")
    assert [s.inner_text() for s in sources.all()] == ["wikipedia.org", "zuerich.com"]
    searches = answer.locator(".search-queries a")
    assert searches.first.get_attribute("href") == "https://www.google.com/search?q=largest%20city%20in%20Switzerland"
    assert "Gemini · gemini-2.5-pro · with Google Search" in answer.locator(".meta").inner_text()
    stats = answer.locator(".stats").inner_text()
    assert "1,200 in · 180 out (420 thinking)" in stats and "estimate" in stats

    # Copy takes the answer's text without the citation numbers.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    answer.get_by_role("button", name="Copy", exact=True).click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Switzerland. Its river" in copied and "Switzerland.1" not in copied

    assert_no_blocking(axe(page), "on a grounded answer with its thinking")
    answer.locator("details.thinking > summary").click()
    page.screenshot(path=str(ARTIFACTS / "grounded-answer.png"), full_page=True)

    page.reload()
    answer = finished(page)
    assert answer.locator(".markdown sup.citations").count() == 2, "stored with the answer"
    assert answer.locator(".sources li").count() == 2
    assert "this conversation: $" in page.locator(".model-badge").inner_text()


def test_regenerate_with_another_model_and_edit_the_instructions(page, standin):
    standin.respond(Script(pieces=["First answer."]))
    page.fill("#message", "Hello")
    page.keyboard.press("Enter")
    answer = finished(page)
    assert "gemini-2.5-flash" in answer.locator(".meta").inner_text()

    standin.respond(Script(pieces=["Second answer."]))
    answer.get_by_label("Model to answer again with").select_option("gemini-2.5-flash-lite")
    answer.get_by_role("button", name="Regenerate").click()
    page.wait_for_function(
        "() => document.querySelector('.message.assistant.outcome-complete .markdown')?.innerText.includes('Second')",
        timeout=TIMEOUT_MS)
    answer = finished(page)
    assert "gemini-2.5-flash-lite" in answer.locator(".meta").inner_text()
    assert standin.requests[-1].model == "gemini-2.5-flash-lite"

    page.locator("header details.instructions > summary").click()
    page.get_by_label("Instructions for this conversation").fill("Answer in French.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    standin.respond(Script(pieces=["Bonjour."]))
    page.fill("#message", "Again")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.message.assistant.outcome-complete')].some(m => m.innerText.includes('Bonjour'))",
        timeout=TIMEOUT_MS)
    assert standin.requests[-1].body["systemInstruction"]["parts"][0]["text"] == "Answer in French."
    assert "Answer in French." not in page.locator("#transcript").inner_text(), "instructions are not a turn"
