"""What Gemini really sends, as the person and a program see it, on both
transports (tests/providers/conftest.py): thinking, usage, answers cut at the
length limit, blocked answers and questions, errors mid-stream, errors that
retrying cannot fix, and a call that is ended when nobody needs it any more:
the stand-in sees the client go."""

import html

import pytest

from app.answers.outcomes import CUT_AT_LENGTH, TIMED_OUT
from app.config import ConfigError, load_config
from tests.page_flow import final_html, post, subscribe
from tests.providers.test_vertexai import chunks_of, conversation_id_of, post_message, post_text
from tests.providers.vertex_standin import Script

# How long the stand-in may take to see a cancelled call end; the app ends it
# at once (the 2 s in docs/benchmarks.md is measured, not asserted here).
SEE_THE_CLIENT_GO = 20


def final_of(response):
    return html.unescape(final_html("".join(chunks_of(response))))


def chat(client, message="hello", **body):
    return client.post("/api/chat", json={"message": message, **body})


# --- thinking and usage --------------------------------------------------------


def test_thoughts_never_reach_the_answer_and_usage_is_shown_and_reported(client, standin):
    standin.respond(thoughts=["SECRET PLAN: first consider"], pieces=["The ", "answer."], usage=(412, 1038, 620))
    final = final_of(post_message(client, "hello"))
    assert "outcome-complete" in final and "The answer." in final
    answer_part = final.split('<div class="markdown">', 1)[1]
    assert "SECRET PLAN" not in answer_part, "the thinking has its own section, above the answer"
    assert "412 in · 1,038 out (620 thinking)" in final

    reply = chat(client)
    assert reply.status_code == 200
    assert reply.json["reply"] == "The answer." and reply.json["thinking"] == "SECRET PLAN: first consider"
    assert (reply.json["outcome"], reply.json["finish_reason"]) == ("complete", "STOP")
    assert reply.json["usage"] == {"input_tokens": 412, "output_tokens": 1038, "reasoning_tokens": 620,
                                   "input_tokens_by_modality": None}
    assert "SECRET PLAN" not in "".join(chunks_of(post_text(client, "hello")))


# --- truncated and blocked -------------------------------------------------------


def test_an_answer_cut_at_max_tokens_says_so_everywhere(client, standin):
    standin.respond(pieces=["A long ", "answer"], finish_reason="MAX_TOKENS")
    final = final_of(post_message(client, "hello"))
    assert "outcome-truncated" in final and "A long answer" in final
    assert CUT_AT_LENGTH in final and ">Retry</button>" in final

    reply = chat(client)
    assert (reply.status_code, reply.json["outcome"], reply.json["finish_reason"]) == (200, "truncated", "MAX_TOKENS")
    assert reply.json["reply"] == "A long answer" and reply.json["error"] == CUT_AT_LENGTH
    assert "".join(chunks_of(post_text(client, "hello"))) == f"A long answer\n[chat truncated] {CUT_AT_LENGTH}\n"


def test_a_safety_stop_after_some_text_is_blocked_with_its_category_in_words(client, standin):
    standin.respond(pieces=["Step one: ", "get"], finish_reason="SAFETY",
                    blocked_category="HARM_CATEGORY_DANGEROUS_CONTENT")
    declined = "Gemini's safety filters declined this answer (dangerous content). Try rephrasing it."
    final = final_of(post_message(client, "hello"))
    assert "outcome-blocked" in final and "Step one: get" in final, "the text so far is kept"
    assert declined in final and ">Retry</button>" in final

    reply = chat(client)
    assert reply.status_code == 422, "not a success"
    assert reply.json | {"cost": None} == {
        "reply": "Step one: get", "outcome": "blocked", "finish_reason": "SAFETY",
        "usage": {"input_tokens": 5, "output_tokens": 2, "reasoning_tokens": 0, "input_tokens_by_modality": None},
        "error": declined,
        "thinking": None, "citations": [], "left_out": None, "model": "gemini-2.5-flash", "cost": None,
    }
    assert "".join(chunks_of(post_text(client, "hello"))) == f"Step one: get\n[chat blocked] {declined}\n"


@pytest.mark.parametrize("reason, words", [
    ("SAFETY", "harassment"), ("PROHIBITED_CONTENT", "prohibited content"), ("BLOCKLIST", "a blocked term"),
])
def test_a_blocked_question_says_so_and_is_not_sent_again(client, standin, reason, words):
    category = "HARM_CATEGORY_HARASSMENT" if reason == "SAFETY" else None
    standin.respond(Script(pieces=["Hi."]), Script(prompt_block=reason, blocked_category=category),
                    Script(pieces=["Fine."]))
    first = post_message(client, "a fine question")
    chunks_of(first)
    conversation_id = conversation_id_of(first)
    final = final_of(post_message(client, "a refused question", conversation_id=conversation_id))
    assert "outcome-blocked" in final and ">Retry</button>" in final
    assert f"Gemini's safety filters declined this question ({words})" in final

    final = final_of(post_message(client, "next question", conversation_id=conversation_id))
    assert "outcome-complete" in final
    assert standin.requests[-1].texts == [("user", "a fine question"), ("model", "Hi."), ("user", "next question")]


def test_a_blocked_question_on_the_api(client, standin):
    standin.respond(prompt_block="PROHIBITED_CONTENT")
    reply = chat(client)
    assert reply.status_code == 422
    assert reply.json["outcome"] == "blocked" and reply.json["reply"] == ""
    assert reply.json["finish_reason"] == "PROHIBITED_CONTENT"
    assert reply.json["error"].startswith("Gemini's safety filters declined this question (prohibited content)")


# --- failures ------------------------------------------------------------------------


def test_an_error_after_some_text_is_an_error_not_a_complete_answer(client, standin):
    """Over REST Google ends such a stream with an `{"error": ...}` element
    (which the library itself would read as an empty response); over gRPC it
    is the call's status. Both say what the error was."""
    standin.respond(pieces=["one ", "two ", "three"], error_after=2, error_status=500)
    final = final_of(post_message(client, "hello"))
    assert "outcome-error" in final and "one two" in final and "three" not in final
    expected = "a server error on its side"
    assert expected in final
    body = "".join(chunks_of(post_text(client, "hello")))
    assert body.startswith("one two \n[chat error] ") and expected in body


WORDS = {
    400: "The model rejected the request as invalid: ",
    403: "not allowed to use the model (permission denied). This is for the site's operator",
    404: "The model 'gemini-2.5-flash' was not found. The site's operator should check CHAT_MODEL.",
    401: "refused this server's Google Cloud credentials. This is for the site's operator",
}


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_errors_that_retrying_cannot_fix_are_not_retried_and_say_whose_they_are(vertex_app, standin, status):
    client = vertex_app(upstream_retries=2, retry_backoff=0.01).test_client()
    standin.respond(status=status)
    reply = chat(client)
    assert reply.status_code == 502 and reply.json["outcome"] == "error"
    assert WORDS[status] in reply.json["error"]
    assert len(standin.requests) == 1, "not retried"


def test_a_bad_request_says_what_google_said_was_wrong(client, standin):
    standin.respond(status=400)
    reply = chat(client)
    assert reply.json["error"].startswith(WORDS[400])
    assert "Sending the same again will not help" in reply.json["error"]


# --- ending the call to Gemini -----------------------------------------------------------


LONG = Script(pieces=[f"w{i} " for i in range(400)], delay=0.05)


def test_a_program_that_goes_away_ends_the_call_to_gemini(client, standin):
    standin.respond(LONG)
    response = post_text(client, "hello", )
    pieces = iter(response.response)
    assert next(pieces).startswith(b"w0")
    response.close()  # the client went away: Flask closes the stream
    [request] = standin.requests
    assert request.gone.wait(SEE_THE_CLIENT_GO), "Gemini was still streaming to nobody"
    assert request.pieces_sent < 100


def test_stop_on_the_page_ends_the_call_to_gemini(client, standin):
    standin.respond(LONG)
    _conversation_id, answer_id, bubbles = post(client, "/messages", message="hello")
    events = iter(subscribe(client, bubbles).response)
    while b"w1" not in next(events):
        pass
    client.post(f"/answers/{answer_id}/stop")
    [request] = standin.requests
    assert request.gone.wait(SEE_THE_CLIENT_GO), "Gemini was still streaming after Stop"
    assert request.pieces_sent < 100


def test_a_stalled_call_is_cancelled_when_the_stall_timeout_fires(vertex_app, standin):
    client = vertex_app(stall_timeout=1.0).test_client()
    standin.respond(pieces=["one ", "two"], stall_after=1, stall_seconds=120)
    assert "".join(chunks_of(post_text(client, "hello"))) == f"one \n[chat error] {TIMED_OUT}\n"
    assert standin.requests[0].gone.wait(SEE_THE_CLIENT_GO), "the silent call was left open"


def test_a_call_silent_from_the_start_is_cancelled_at_each_retry(vertex_app, standin):
    client = vertex_app(first_piece_timeout=1.0, upstream_retries=1, retry_backoff=0.01).test_client()
    standin.respond(pieces=["late"], stall_after=0, stall_seconds=120)
    assert "".join(chunks_of(post_text(client, "hello"))) == f"\n[chat error] {TIMED_OUT}\n"
    assert len(standin.requests) == 2
    assert all(request.gone.wait(SEE_THE_CLIENT_GO) for request in standin.requests)


# --- settings ----------------------------------------------------------------------------


VERTEX = {"CHAT_PROVIDER": "vertexai", "GOOGLE_CLOUD_PROJECT": "p", "CHAT_DEBUG": "1"}


@pytest.mark.parametrize("transport, url, says", [
    ("grpc", "http://127.0.0.1:8080", "gRPC takes host:port"),
    ("rest", "127.0.0.1:8080", "needs an http:// or https:// URL"),
])
def test_a_base_url_that_cannot_work_with_its_transport_stops_start_up(transport, url, says):
    with pytest.raises(ConfigError, match=says):
        load_config({**VERTEX, "CHAT_VERTEX_TRANSPORT": transport, "CHAT_VERTEX_BASE_URL": url})
    load_config({**VERTEX, "CHAT_VERTEX_TRANSPORT": transport,
                 "CHAT_VERTEX_BASE_URL": "localhost:8443" if transport == "grpc" else "http://127.0.0.1:8080"})


def test_the_librarys_own_retries_are_refused_with_the_setting_to_use():
    with pytest.raises(ConfigError, match="CHAT_UPSTREAM_RETRIES"):
        load_config({**VERTEX, "CHAT_VERTEX_MAX_RETRIES": "3"})
