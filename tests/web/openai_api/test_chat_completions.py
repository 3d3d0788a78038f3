"""/v1/chat/completions and /v1/models through Flask's client: the shapes,
Gemini's outcomes in OpenAI's terms, the refusals and the shared limits.
(Real clients against a real server: test_real_clients.py.)"""

import json

import pytest

from app.answers.outcomes import CUT_AT_LENGTH, blocked_message
from tests.conftest import API_KEY, api_client
from tests.scripted_model import ScriptedChatModel

USER = [{"role": "user", "content": "Hello"}]
USAGE = {"input_tokens": 7, "output_tokens": 3, "total_tokens": 12, "output_token_details": {"reasoning": 2}}


def completions(client, **body):
    return client.post("/v1/chat/completions", json={"model": "fake-echo", "messages": USER, **body},
                       buffered=not body.get("stream"))


def sse_events(response):
    """The `data:` payloads of an event stream, in order ([DONE] as the string)."""
    text = b"".join(response.response).decode()
    datas = [block.removeprefix("data: ") for block in text.split("\n\n") if block.startswith("data: ")]
    return [data if data == "[DONE]" else json.loads(data) for data in datas]


def test_models_are_the_ones_the_operator_allows(make_app):
    client = make_app(models=("fake-echo", "fake-two")).test_client()
    listed = client.get("/v1/models").get_json()
    assert listed["object"] == "list"
    assert [(m["id"], m["object"]) for m in listed["data"]] == [("fake-echo", "model"), ("fake-two", "model")]
    assert client.get("/v1/models/fake-two").get_json()["id"] == "fake-two"
    missing = client.get("/v1/models/gpt-4o")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "model_not_found"


def test_a_whole_completion_carries_the_answer_usage_and_request_id(make_app):
    model = ScriptedChatModel(pieces=["Hi ", "there"], finish_reason="STOP", usage=USAGE)
    response = completions(make_app(chat_model=model).test_client())
    assert response.status_code == 200
    body = response.get_json()
    assert body["object"] == "chat.completion"
    assert body["id"] == f"chatcmpl-{response.headers['X-Request-Id']}"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hi there", "refusal": None}
    assert body["choices"][0]["finish_reason"] == "stop"
    # OpenAI counts the thinking among the completion's tokens.
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12,
                             "completion_tokens_details": {"reasoning_tokens": 2},
                             "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0, "image_tokens": 0,
                                                       "video_tokens": 0}}


def test_a_stream_is_chunks_whose_deltas_join_to_the_answer_then_usage_then_done(make_app):
    model = ScriptedChatModel(pieces=["One ", "two ", "three"], finish_reason="STOP", usage=USAGE)
    response = completions(make_app(chat_model=model).test_client(), stream=True,
                           stream_options={"include_usage": True})
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "One two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 2}


@pytest.mark.parametrize(("gemini_reason", "finish_reason", "sentence"), [
    ("MAX_TOKENS", "length", CUT_AT_LENGTH),
    ("SAFETY", "content_filter", blocked_message("SAFETY", None, False)),
    ("RECITATION", "content_filter", blocked_message("RECITATION", None, False)),
])
def test_gemini_endings_are_openai_finish_reasons_with_the_products_sentence(make_app, gemini_reason, finish_reason,
                                                                             sentence):
    model = ScriptedChatModel(pieces=["Part of it"], finish_reason=gemini_reason)
    client = make_app(chat_model=model).test_client()
    choice = completions(client).get_json()["choices"][0]
    assert (choice["finish_reason"], choice["native_finish_reason"], choice["finish_message"]) == (
        finish_reason, gemini_reason, sentence)
    last = [e for e in sse_events(completions(client, stream=True)) if e != "[DONE]"][-1]
    assert (last["choices"][0]["finish_reason"], last["choices"][0]["finish_message"]) == (finish_reason, sentence)


def test_a_model_that_fails_before_answering_is_a_502_in_openais_shape(make_app):
    model = ScriptedChatModel(pieces=["never"], fail_after=0)
    client = make_app(chat_model=model, upstream_retries=0).test_client()
    for stream in (False, True):
        response = completions(client, stream=stream)
        assert response.status_code == 502
        error = response.get_json()["error"]
        assert error["type"] == "server_error" and error["message"] == "The model failed to answer. Please try again."
        assert "secret-token" not in response.get_data(as_text=True)


def test_a_failure_mid_stream_ends_it_with_an_error_object_never_a_short_answer(make_app):
    model = ScriptedChatModel(pieces=["Half ", "of ", "it"], fail_after=2)
    response = completions(make_app(chat_model=model, upstream_retries=0).test_client(), stream=True)
    events = sse_events(response)
    assert "[DONE]" not in events
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]) == "Half of "
    assert events[-1]["error"]["message"] == "The model failed to answer. Please try again."
    # Not streamed, the same failure is an error, not the half answer.
    model = ScriptedChatModel(pieces=["Half ", "of ", "it"], fail_after=2)
    whole = completions(make_app(chat_model=model, upstream_retries=0).test_client())
    assert whole.status_code == 502 and "choices" not in whole.get_json()


def test_a_client_that_goes_away_stops_the_model(make_app):
    model = ScriptedChatModel(pieces=[f"w{i} " for i in range(200)], delay=0.02)
    response = completions(make_app(chat_model=model).test_client(), stream=True)
    chunks = iter(response.response)
    assert b"w0" in next(chunks) + next(chunks)
    response.close()
    assert model.closed.wait(5), "the model kept streaming to nobody"
    assert model.yielded < 200


def test_the_conversation_reaches_the_model_with_its_instructions_first(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    client = make_app(chat_model=model).test_client()
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Hello!", "reasoning_content": "not sent back"},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "And now?"},
    ]
    assert client.post("/v1/chat/completions", json={"messages": messages}).status_code == 200
    assert [(m.type, m.text) for m in model.received[0]] == [
        ("system", "Be brief.\n\nAnswer in French."), ("human", "Hi"), ("ai", "Hello!"), ("human", "And now?")]


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"messages": []}, "messages", "non-empty list"),
    ({"messages": "Hello"}, "messages", "non-empty list"),
    ({"n": 2}, "n", "Only one answer"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "Tools (function calling) are not"),
    ({"response_format": {"type": "json_object"}}, "response_format", "Structured output"),
    ({"messages": [{"role": "tool", "content": "42", "tool_call_id": "a"}]}, "messages[0]", "Tools"),
    ({"messages": [*USER, {"role": "assistant", "content": "Hi"}]}, "messages", "must be the user's"),
    ({"max_tokens": 0}, "max_tokens", "at least 1"),
    ({"temperature": "hot"}, "temperature", "must be a number"),
    ({"stop": ["a"] * 6}, "stop", "at most 5"),
    ({"stream": "yes"}, "stream", "true or false"),
    ({"temperature": 0.2}, "temperature", "is not offered by this server's model (fake)"),
])
def test_what_is_not_offered_or_malformed_is_a_400_saying_so(make_app, body, param, words):
    response = make_app().test_client().post("/v1/chat/completions", json={"messages": USER, **body})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert words in error["message"]


def test_images_from_urls_are_refused_and_the_fake_model_reads_no_images(make_app):
    client = make_app().test_client()
    for url, words in [("https://example.com/cat.png", "never fetches a URL"),
                       ("data:image/png;base64,iVBORw0KGgo=", "reads text only")]:
        parts = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]
        response = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": parts}]})
        assert response.status_code == 400
        assert words in response.get_json()["error"]["message"]


def test_an_unknown_model_is_a_404_naming_the_allowed_ones(make_app):
    response = make_app(models=("fake-echo", "fake-two")).test_client().post(
        "/v1/chat/completions", json={"model": "gpt-4o", "messages": USER})
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "message": "The model 'gpt-4o' does not exist here; choose one of: fake-echo, fake-two.",
        "type": "invalid_request_error", "param": "model", "code": "model_not_found"}


def test_the_api_keys_and_rate_limits_are_the_apis(make_app):
    app = make_app(api_keys=(API_KEY,), rate_messages_per_minute=1)
    for headers in ({}, {"Authorization": "Bearer wrong-" + "k" * 30}):
        refused = app.test_client().post("/v1/chat/completions", json={"messages": USER}, headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["type"] == "authentication_error"
    assert app.test_client().get("/v1/models").status_code == 401
    client = api_client(app)
    assert completions(client).status_code == 200
    limited = completions(client)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["type"] == "rate_limit_error"
    assert "messages in a minute" in limited.get_json()["error"]["message"]


def test_a_message_over_the_limit_is_a_413(make_app):
    response = make_app(max_message_chars=10).test_client().post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 11}]})
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "The last message is 11 characters long; the limit is 10."


def test_answers_and_requests_are_counted_in_the_apps_metrics(make_app):
    from prometheus_client import REGISTRY

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    model = ScriptedChatModel(pieces=["ok"], finish_reason="STOP", usage=USAGE)
    client = make_app(chat_model=model, model="scripted", metrics=True).test_client()
    answers = ("chat_answers_total", {"outcome": "complete", "provider": "fake", "model": "scripted"})
    requests = ("chat_http_requests_total", {"route": "/v1/chat/completions", "method": "POST", "status": "200"})
    tokens = ("chat_model_tokens_total", {"kind": "reasoning", "model": "scripted"})
    before = [sample(name, **labels) for name, labels in (answers, requests, tokens)]
    assert client.post("/v1/chat/completions", json={"messages": USER}).status_code == 200
    after = [sample(name, **labels) for name, labels in (answers, requests, tokens)]
    assert [b - a for a, b in zip(before, after)] == [1, 1, 2]


def test_a_streaming_answer_holds_its_stream_slot_until_it_ends(make_app):
    model = ScriptedChatModel(pieces=["a ", "b ", "c"], delay=0.05)
    client = make_app(chat_model=model, rate_max_streams=1).test_client()
    first = completions(client, stream=True)
    chunks = iter(first.response)
    next(chunks)
    second = completions(client)
    assert second.status_code == 429 and "answer streaming" in second.get_json()["error"]["message"]
    list(chunks)  # the first answer ends: its slot is free
    first.close()
    assert completions(client).status_code == 200


def test_each_completion_is_a_billed_call_in_the_operators_usage_report(make_app):
    from sqlalchemy import select

    from app.storage.engine import session_for
    from app.storage.models import BilledCall

    model = ScriptedChatModel(pieces=["Hi"], finish_reason="STOP", usage=USAGE)
    app = make_app(chat_model=model, api_keys=(API_KEY,))
    client = api_client(app)
    assert completions(client).status_code == 200
    assert sse_events(completions(client, stream=True))[-1] == "[DONE]"
    with session_for(app) as db:
        calls = db.scalars(select(BilledCall)).all()
        assert [(c.model, c.input_tokens, c.output_tokens, c.conversation_id) for c in calls] == [
            ("fake-echo", 7, 3, None)] * 2
