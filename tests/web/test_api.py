"""The API for programs: chunked text and a JSON reply."""

import json

from app.web.api import ERROR_MARKER
from app.providers.fake import split_evenly
from tests.conftest import API_KEY, api_client
from tests.scripted_model import ScriptedChatModel
from tests.sse_client import is_whole_pieces_joined

OTHER_KEY = "another-api-key-" + "o" * 24


def stream(client, **kwargs):
    return client.post("/api/chat/stream", buffered=False, **kwargs)


def test_text_stream_is_the_reply_in_chunks(make_app):
    # Paced like a model: pieces that arrive together may be sent together.
    client = make_app(fake_chunks=4, fake_chunk_ms=100).test_client()
    response = stream(client, json={"message": "What is baseball?"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    chunks = [chunk.decode() for chunk in response.response]
    assert is_whole_pieces_joined(chunks, split_evenly("What is baseball?", 4))


def test_text_stream_takes_a_form_body_and_history(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    client = make_app(chat_model=model).test_client()
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    response = stream(client, data={"message": "And now?", "history": json.dumps(history)})
    assert b"".join(response.response) == b"ok"
    assert [(m.type, m.text) for m in model.received[0]] == [("human", "Hi"), ("ai", "Hello!"), ("human", "And now?")]


def test_history_is_bounded_for_the_model(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    client = make_app(chat_model=model, history_max_turns=3).test_client()
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"t{i}"} for i in range(10)]
    client.post("/api/chat", json={"message": "now", "history": history})
    assert [m.text for m in model.received[0]] == ["t8", "t9", "now"]


def test_text_stream_ends_with_the_error_marker_when_the_model_fails(make_app):
    model = ScriptedChatModel(pieces=["partial ", "more"], fail_after=1)
    client = make_app(chat_model=model).test_client()
    body = b"".join(stream(client, json={"message": "hi"}).response).decode()
    assert body == f"partial {ERROR_MARKER}The model failed to answer. Please try again.\n"
    assert "secret-token" not in body


def test_json_reply(client):
    response = client.post("/api/chat", json={"message": "What is baseball?"})
    assert response.status_code == 200
    assert response.json == {"reply": "What is baseball?", "outcome": "complete", "finish_reason": "STOP", "usage": None,
                             "thinking": None, "citations": [], "left_out": None, "cost": None, "model": "fake-echo"}


def test_json_reply_reports_a_failure_with_the_partial(make_app):
    model = ScriptedChatModel(pieces=["half", "never"], fail_after=1)
    response = make_app(chat_model=model).test_client().post("/api/chat", data={"message": "hi"})
    assert response.status_code == 502
    assert response.json == {
        "reply": "half", "outcome": "error", "finish_reason": None, "usage": None,
        "error": "The model failed to answer. Please try again.",
        "thinking": None, "citations": [], "left_out": None, "cost": None, "model": "fake-echo",
    }


USAGE = {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42, "output_token_details": {"reasoning": 7}}


def test_json_reply_of_an_answer_cut_at_the_length_limit(make_app):
    model = ScriptedChatModel(pieces=["a long ", "answer"], finish_reason="MAX_TOKENS", usage=USAGE)
    response = make_app(chat_model=model).test_client().post("/api/chat", json={"message": "hi"})
    assert response.status_code == 200, "the text is there to use"
    assert response.json == {
        "reply": "a long answer", "outcome": "truncated", "finish_reason": "MAX_TOKENS",
        "usage": {"input_tokens": 12, "output_tokens": 30, "reasoning_tokens": 7, "input_tokens_by_modality": None},
        "error": "The answer was cut off here: it reached the model's length limit.",
        "thinking": None, "citations": [], "left_out": None, "cost": None, "model": "fake-echo",
    }


def test_json_reply_of_a_blocked_answer_is_not_a_success(make_app):
    model = ScriptedChatModel(pieces=["Sure, here is"], finish_reason="SAFETY")
    response = make_app(chat_model=model).test_client().post("/api/chat", json={"message": "hi"})
    assert response.status_code == 422
    assert response.json["outcome"] == "blocked" and response.json["finish_reason"] == "SAFETY"
    assert response.json["reply"] == "Sure, here is"
    assert response.json["error"].startswith("Gemini's safety filters declined this answer")


def test_text_stream_ends_a_truncated_or_blocked_answer_with_its_marker(make_app):
    truncated = ScriptedChatModel(pieces=["cut"], finish_reason="MAX_TOKENS")
    body = b"".join(stream(make_app(chat_model=truncated).test_client(), json={"message": "hi"}).response).decode()
    assert body == "cut\n[chat truncated] The answer was cut off here: it reached the model's length limit.\n"
    blocked = ScriptedChatModel(pieces=[""], finish_reason="PROHIBITED_CONTENT")
    body = b"".join(stream(make_app(chat_model=blocked).test_client(), json={"message": "hi"}).response).decode()
    assert body == "\n[chat blocked] Gemini's safety filters declined this answer (prohibited content). Try rephrasing it.\n"


def test_bad_input_gets_clear_json_errors(make_app):
    client = make_app(max_message_chars=10).test_client()
    assert client.post("/api/chat", json={"message": ""}).status_code == 400
    response = client.post("/api/chat/stream", json={"message": "x" * 11})
    assert response.status_code == 413 and "limit is 10" in response.json["error"]
    assert client.post("/api/chat", json=["not", "an", "object"]).status_code == 400
    bad_history = client.post("/api/chat", json={"message": "hi", "history": [{"role": "system"}]})
    assert bad_history.status_code == 400 and "role" in bad_history.json["error"]


def test_the_api_never_sets_or_takes_the_pages_cookie(make_app):
    # Stored conversations belong to an API key: a browser sends its cookie
    # to any site's form, so a cookie is no credential for a program.
    page = make_app().test_client()
    page.get("/")
    assert "Set-Cookie" not in page.post("/api/chat", json={"message": "hi"}).headers
    refused = page.post("/api/chat", json={"message": "hi", "conversation_id": "new"})
    assert refused.status_code == 403 and "CHAT_API_KEYS" in refused.json["error"]
    assert "Set-Cookie" not in refused.headers
    client = api_client(make_app(api_keys=(API_KEY,)))
    started = client.post("/api/chat", json={"message": "hi", "conversation_id": "new"})
    assert "Set-Cookie" not in started.headers
    again = client.post("/api/chat", json={"message": "again", "conversation_id": started.json["conversation_id"]})
    assert again.status_code == 200 and again.json["reply"] == "again"


def test_a_stored_answer_can_be_resumed_from_any_offset_after_a_drop(make_app):
    model = ScriptedChatModel(pieces=["Resumed ", "exactly ", "where it was."])
    client = api_client(make_app(chat_model=model, api_keys=(API_KEY,)))
    first = client.post("/api/chat/stream", json={"message": "q", "conversation_id": "new"})
    answer_id = first.headers["X-Answer-Id"]
    whole = first.get_data(as_text=True)
    assert whole == "Resumed exactly where it was."
    for offset in (0, 8, len(whole)):
        again = client.get(f"/api/answers/{answer_id}/stream?offset={offset}")
        assert again.status_code == 200 and again.get_data(as_text=True) == whole[offset:]
    assert client.post("/api/chat", json={"message": "more", "conversation_id": first.headers["X-Conversation-Id"]}).json["answer_id"]


def test_resuming_says_clearly_what_is_wrong(make_app):
    app = make_app(api_keys=(API_KEY, OTHER_KEY))
    owner, stranger = api_client(app), api_client(app, OTHER_KEY)
    answer_id = owner.post("/api/chat", json={"message": "mine", "conversation_id": "new"}).json["answer_id"]
    bad = owner.get(f"/api/answers/{answer_id}/stream?offset=x")
    assert bad.status_code == 400 and "whole number" in bad.json["error"]
    assert stranger.get(f"/api/answers/{answer_id}/stream").status_code == 404
    assert owner.get("/api/answers/424242/stream").json["error"] == "No such conversation or answer."
