"""A message's Thinking switch reaches Gemini as that answer's
thinking_budget, from the page's form and from the JSON API, and the server
refuses what the model does not allow; a thinking answer's folded section
says how long it thought. The stand-in's recorded requests show what was
asked (tests/providers/vertex_standin.py)."""

import re

import pytest

from app.storage.engine import session_for
from app.storage.models import Message
from tests.conftest import API_KEY, api_client
from tests.page_flow import HTMX, final_html, post, read_all, subscribe

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:app.providers.vertexai")

MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")


@pytest.fixture
def gemini_app(vertex_app):
    def build(**overrides):
        return vertex_app(**{"models": MODELS, **overrides})
    return build


def thinking_asked(standin):
    """The last request's thinkingConfig ({} when none was sent)."""
    return standin.requests[-1].body["generationConfig"].get("thinkingConfig", {})


def send(client, message, **form):
    conversation_id, answer_id, bubbles = post(client, "/messages", message=message, **form)
    return conversation_id, answer_id, final_html(read_all(subscribe(client, bubbles)))


def test_the_composer_names_the_models_and_offers_thinking_where_the_model_allows(gemini_app):
    page = gemini_app().test_client().get("/").get_data(as_text=True)
    assert ">Gemini 2.5 Flash — fast, everyday questions (gemini-2.5-flash)</option>" in page
    assert ">Gemini 2.5 Pro — deeper reasoning, slower (gemini-2.5-pro)</option>" in page
    assert ">Gemini 2.5 Flash-Lite — quickest, cheapest (gemini-2.5-flash-lite)</option>" in page
    checkbox = re.search(r'<input type="checkbox" id="thinking-choice"[^>]*>', page).group(0)
    assert " checked" in checkbox and " disabled" not in checkbox, "Flash, the default, thinks unless told"
    assert "Think before answering" in page


def test_for_a_model_that_always_thinks_the_switch_is_disabled_with_a_hint(gemini_app):
    page = gemini_app(model="gemini-2.5-pro").test_client().get("/").get_data(as_text=True)
    checkbox = re.search(r'<input type="checkbox" id="thinking-choice"[^>]*>', page).group(0)
    assert " disabled" in checkbox
    assert '<span id="thinking-hint" class="thinking-hint">Gemini 2.5 Pro always thinks</span>' in page


def test_no_switch_where_thinking_is_off_for_every_answer(gemini_app):
    page = gemini_app(thinking_budget=0).test_client().get("/").get_data(as_text=True)
    assert "thinking-choice" not in page


def test_a_message_sent_with_thinking_off_asks_for_no_thinking(gemini_app, standin):
    app = gemini_app()
    _conversation_id, answer_id, _final = send(app.test_client(), "hi", model="gemini-2.5-flash", thinking="off")
    thinking = thinking_asked(standin)
    assert int(thinking["thinkingBudget"]) == 0 and not thinking.get("includeThoughts")
    with session_for(app) as db:
        assert db.get(Message, answer_id).thinking is False


def test_thinking_on_asks_the_model_to_decide_and_for_its_thoughts_and_is_for_that_answer_only(gemini_app, standin):
    client = gemini_app().test_client()
    conversation_id, _answer_id, _final = send(client, "hi", model="gemini-2.5-flash-lite", thinking=["off", "on"])
    thinking = thinking_asked(standin)
    assert int(thinking["thinkingBudget"]) == -1 and thinking["includeThoughts"] is True
    send(client, "again", conversation_id=conversation_id, model="gemini-2.5-flash-lite", thinking="off")
    assert int(thinking_asked(standin)["thinkingBudget"]) == 0
    # No switch sent (a form without it): the model's own way, no budget.
    send(client, "third", conversation_id=conversation_id)
    assert "thinkingBudget" not in thinking_asked(standin)


def test_asking_a_model_that_always_thinks_not_to_think_is_refused_with_a_sentence(gemini_app, standin):
    client = gemini_app().test_client()
    response = client.post("/messages", headers=HTMX, data={"message": "hi", "model": "gemini-2.5-pro",
                                                           "thinking": "off"})
    assert response.status_code == 400
    assert "Gemini 2.5 Pro always thinks before answering" in response.get_data(as_text=True)
    assert standin.requests == [], "nothing was asked of Gemini"
    bad = client.post("/messages", headers=HTMX, data={"message": "hi", "thinking": "maybe"})
    assert bad.status_code == 400 and "Thinking switch must be on or off" in bad.get_data(as_text=True)


def test_the_json_api_takes_thinking_false(gemini_app, standin):
    client = api_client(gemini_app(api_keys=(API_KEY,)))
    reply = client.post("/api/chat", json={"message": "hi", "thinking": False})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert int(thinking_asked(standin)["thinkingBudget"]) == 0
    stored = client.post("/api/chat", json={"message": "hi", "thinking": False, "conversation_id": "new"})
    assert stored.status_code == 200, stored.get_data(as_text=True)
    assert int(thinking_asked(standin)["thinkingBudget"]) == 0
    client.post("/api/chat", json={"message": "hi", "thinking": True, "model": "gemini-2.5-flash-lite"})
    assert int(thinking_asked(standin)["thinkingBudget"]) == -1


@pytest.mark.parametrize("standin", ["rest"], indirect=True)
def test_the_json_api_refuses_what_the_model_does_not_allow(gemini_app, standin):
    client = api_client(gemini_app(api_keys=(API_KEY,)))
    refused = client.post("/api/chat", json={"message": "hi", "thinking": False, "model": "gemini-2.5-pro"})
    assert refused.status_code == 400 and "always thinks" in refused.get_json()["error"]
    stored = client.post("/api/chat", json={"message": "hi", "thinking": False, "model": "gemini-2.5-pro",
                                            "conversation_id": "new"})
    assert stored.status_code == 400 and "always thinks" in stored.get_json()["error"]
    wrong = client.post("/api/chat", json={"message": "hi", "thinking": "maybe"})
    assert wrong.status_code == 400 and "thinking must be true or false" in wrong.get_json()["error"]
    assert standin.requests == []


def test_the_folded_thinking_says_how_long_it_thought(gemini_app, standin):
    standin.respond(thoughts=["Weighing it"], pieces=["The ", "answer."], delay=0.05)
    app = gemini_app()
    client = app.test_client()
    conversation_id, answer_id, final = send(client, "hi")
    summary = re.search(r'<details class="thinking"[^>]*>\s*<summary>(.*?)</summary>', final, re.S).group(1)
    assert re.fullmatch(r"Thought for (under 1 s|\d+ s)", summary.strip()), summary
    with session_for(app) as db:
        seconds = db.get(Message, answer_id).thought_seconds
    assert seconds is not None and seconds > 0
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert re.search(r"<summary>\s*Thought for", page), "a reload says it too"


def test_an_answer_without_thoughts_has_no_thinking_time(gemini_app, standin):
    standin.respond(pieces=["Plain."])
    app = gemini_app()
    _conversation_id, answer_id, final = send(app.test_client(), "hi")
    assert "Thought for" not in final
    with session_for(app) as db:
        assert db.get(Message, answer_id).thought_seconds is None


def test_regenerate_and_edit_keep_the_questions_thinking_switch(gemini_app, standin):
    """They answered with the model's own setting, dropping the person's choice."""
    client = gemini_app().test_client()
    conversation_id, _answer_id, _final = send(client, "hi", model="gemini-2.5-flash", thinking="off")
    _c, answer_id, bubbles = post(client, f"/c/{conversation_id}/regenerate")
    read_all(subscribe(client, bubbles))
    assert int(thinking_asked(standin)["thinkingBudget"]) == 0
    _c, answer_id, bubbles = post(client, f"/c/{conversation_id}/edit", message="hi again")
    read_all(subscribe(client, bubbles))
    assert int(thinking_asked(standin)["thinkingBudget"]) == 0
