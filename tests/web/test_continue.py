"""Continue: an answer cut off at the length limit goes on from where it
stopped, into the same answer (one bubble, one stored message), with the
answer so far in what the model is sent; as Retry, it takes the CSRF token,
the message rate and a stream slot."""

import html
import re

from app.answers.continuation import CONTINUE_INSTRUCTION
from tests.conftest import HTMX
from tests.page_flow import final_html, read_all, send, subscribe
from tests.scripted_model import ScriptedChatModel
from tests.sse_client import decode_events
from tests.web.test_conversations import stored_answers
from tests.web.test_security import plain_client

USAGE = {"input_tokens": 100, "output_tokens": 50, "total_tokens": 150}


def truncated_answer(make_app, **settings):
    """(app, client, model, conversation id, answer id) of a conversation whose answer hit the length limit."""
    model = ScriptedChatModel(pieces=["The first ", "half of a"], finish_reason="MAX_TOKENS", usage=USAGE)
    app = make_app(chat_model=model, **settings)
    client = app.test_client()
    conversation_id, body = send(client, "Tell me a long story.")
    final = final_html(body)
    assert "outcome-truncated" in final and ">Continue</button>" in final
    answer_id = int(re.findall(r'id="m-(\d+)"', body)[1])
    return app, client, model, conversation_id, answer_id


def test_continue_streams_the_rest_into_the_same_answer_and_stores_one_message(make_app):
    app, client, model, conversation_id, answer_id = truncated_answer(make_app)
    model.pieces, model.finish_reason = [" long story, ", "and its end."], "STOP"

    response = client.post(f"/answers/{answer_id}/continue", headers=HTMX)
    assert response.status_code == 200
    bubble = response.get_data(as_text=True)
    assert f'id="m-{answer_id}"' in bubble and "outcome-streaming" in bubble
    offset = len("The first half of a")
    assert f"/answers/{answer_id}/events?offset={offset}" in html.unescape(bubble), "it asks only for the rest"
    assert "The first half of a" in bubble, "the text so far stays in the bubble"

    body = read_all(subscribe(client, bubble))
    # Only the rest is sent, at offsets that go on from the text it had.
    pieces = decode_events(body)[:-2]  # before the finished answer and `done`
    assert pieces[-1]["id"] == str(offset + len(" long story, and its end."))
    assert "The first" not in "".join(event["data"] for event in pieces)
    final = final_html(body)
    assert f'id="m-{answer_id}"' in final and "outcome-complete" in final
    assert "The first half of a long story, and its end." in final
    assert ">Continue</button>" not in final and ">Regenerate</button>" in final
    assert "200 in · 100 out" in final, "the answer counts the tokens of both calls"

    assert stored_answers(app) == [("The first half of a long story, and its end.", "complete")]
    sent = model.received[-1]
    assert [type(m).__name__ for m in sent] == ["HumanMessage", "AIMessage", "HumanMessage"]
    assert [m.text for m in sent] == ["Tell me a long story.", "The first half of a", CONTINUE_INSTRUCTION]
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert page.count('class="message assistant') == 1


def test_a_continuation_cut_off_again_offers_continue_again(make_app):
    app, client, model, _conversation_id, answer_id = truncated_answer(make_app)
    model.pieces = [" still not", " the end"]  # MAX_TOKENS again
    body = read_all(subscribe(client, client.post(f"/answers/{answer_id}/continue", headers=HTMX).get_data(as_text=True)))
    final = final_html(body)
    assert "outcome-truncated" in final and ">Continue</button>" in final
    model.pieces, model.finish_reason = [" done."], "STOP"
    read_all(subscribe(client, client.post(f"/answers/{answer_id}/continue", headers=HTMX).get_data(as_text=True)))
    assert stored_answers(app) == [("The first half of a still not the end done.", "complete")]
    assert model.received[-1][1].text == "The first half of a still not the end"


def test_without_javascript_continue_redirects_to_the_conversation(make_app):
    app, client, model, conversation_id, answer_id = truncated_answer(make_app)
    model.pieces, model.finish_reason = [" and the rest."], "STOP"
    response = client.post(f"/answers/{answer_id}/continue")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/{conversation_id}#m-{answer_id}")
    app.extensions["answer_tasks"].wait(10)
    assert stored_answers(app) == [("The first half of a and the rest.", "complete")]


def test_only_a_truncated_last_answer_of_ones_own_continues_and_only_once(make_app):
    app, client, model, conversation_id, answer_id = truncated_answer(make_app)
    stranger = app.test_client()
    stranger.get("/")
    assert stranger.post(f"/answers/{answer_id}/continue", headers=HTMX).status_code == 404

    model.pieces, model.finish_reason = ["p1 ", "p2 ", "p3"], "STOP"
    model.delay = 0.05
    first = client.post(f"/answers/{answer_id}/continue", headers=HTMX)
    again = client.post(f"/answers/{answer_id}/continue", headers=HTMX)  # a double click
    assert first.status_code == 200 and again.status_code == 409
    assert b"cannot be continued" in again.data and b'hx-target="#composer-error"' in again.data
    read_all(subscribe(client, first.get_data(as_text=True)))
    assert client.post(f"/answers/{answer_id}/continue", headers=HTMX).status_code == 409, "it is complete now"

    model.delay, model.finish_reason, model.pieces = 0.0, "MAX_TOKENS", ["cut"]
    send(client, "Another question", conversation_id)
    assert client.post(f"/answers/{answer_id}/continue", headers=HTMX).status_code == 409, "no longer the last"


def test_continue_needs_the_csrf_token(make_app):
    app, _client, _model, _conversation_id, answer_id = truncated_answer(make_app)
    client = plain_client(app)
    client.get("/")
    response = client.post(f"/answers/{answer_id}/continue", headers=HTMX)
    assert response.status_code == 400 and b"Reload it and try again" in response.data


def test_continue_counts_against_the_message_rate(make_app):
    _app, client, _model, _conversation_id, answer_id = truncated_answer(make_app, rate_messages_per_minute=1)
    refused = client.post(f"/answers/{answer_id}/continue", headers=HTMX)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert stored_answers(_app)[0][1] == "truncated", "nothing was reopened"


def test_stop_during_a_continuation_keeps_both_parts(make_app):
    app, client, model, _conversation_id, answer_id = truncated_answer(make_app)
    model.pieces, model.finish_reason, model.delay = [f" q{i}" for i in range(200)], "STOP", 0.01
    bubble = client.post(f"/answers/{answer_id}/continue", headers=HTMX).get_data(as_text=True)
    stream = iter(subscribe(client, bubble).response)
    next(stream)  # the opening comment
    next(stream)  # the first piece of the continuation
    assert b"Stopped." in client.post(f"/answers/{answer_id}/stop", headers=HTMX).data
    final = final_html("".join(chunk.decode() for chunk in stream))
    assert "outcome-stopped" in final
    [(content, outcome)] = stored_answers(app)
    assert outcome == "stopped" and content.startswith("The first half of a q0")
