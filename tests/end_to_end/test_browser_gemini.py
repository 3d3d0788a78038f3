"""Gemini's outcomes as a person sees them, in Chromium: a real gunicorn
(gevent) on provider=vertexai over gRPC, the default transport, against the
TLS Vertex AI stand-in. A blocked or truncated answer says so in its bubble,
keeps its text and offers Retry, which streams a new answer in place; a
finished answer shows what it cost."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env, send, watched_page
from tests.providers.vertex_standin import Script, VertexStandIn

TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def standin():
    with VertexStandIn(transport="grpc") as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, standin):
    env = gemini_env(standin, CHAT_MODEL="gemini-2.5-flash")
    with gunicorn(tmp_path_factory.mktemp("gemini"), env) as (base, _log, _process):
        yield base


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server + "/") as watched:
        yield watched


def last_answer(page):
    return page.locator(".message.assistant").last


def finished_answer(page, outcome):
    page.wait_for_selector(f".message.assistant.outcome-{outcome}", timeout=TIMEOUT_MS)
    return last_answer(page)


def test_a_blocked_answer_says_why_keeps_its_text_and_retry_streams_a_new_one(page, standin):
    standin.respond(
        Script(pieces=["Step one: ", "take the"], delay=0.05, finish_reason="SAFETY",
               blocked_category="HARM_CATEGORY_DANGEROUS_CONTENT"),
        Script(pieces=["A safe ", "answer."], delay=0.05, usage=(412, 1038, 620)),
    )
    send(page.page, "How do I do the dangerous thing?")
    answer = finished_answer(page.page, "blocked")
    assert answer.locator(".markdown").inner_text().strip() == "Step one: take the"
    assert answer.locator(".notice").inner_text() == (
        "Gemini's safety filters declined this answer (dangerous content). Try rephrasing it."
    )
    assert page.page.locator("#announcer").inner_text() == "Answer blocked by Gemini's safety filters."

    answer.get_by_role("button", name="Retry").click()
    answer = finished_answer(page.page, "complete")
    assert answer.locator(".markdown").inner_text().strip() == "A safe answer."
    assert page.page.locator(".message.assistant").count() == 1, "the new answer took the blocked one's place"
    assert "412 in · 1,038 out (620 thinking)" in answer.locator(".stats").inner_text()


def test_a_truncated_answer_and_a_blocked_question_say_so(page, standin):
    standin.respond(
        Script(pieces=["The first part ", "of a long"], finish_reason="MAX_TOKENS"),
        Script(prompt_block="PROHIBITED_CONTENT"),
    )
    send(page.page, "Tell me everything.")
    answer = finished_answer(page.page, "truncated")
    assert answer.locator(".markdown").inner_text().strip() == "The first part of a long"
    assert "reached the model's length limit" in answer.locator(".notice").inner_text()
    assert answer.get_by_role("button", name="Retry").is_visible()

    send(page.page, "Something refused.")
    page.page.wait_for_selector(".message.assistant >> nth=1", timeout=TIMEOUT_MS)
    answer = finished_answer(page.page, "blocked")
    assert answer.locator(".notice").inner_text() == (
        "Gemini's safety filters declined this question (prohibited content). Try rephrasing it."
    )
    assert answer.get_by_role("button", name="Retry").is_visible()
