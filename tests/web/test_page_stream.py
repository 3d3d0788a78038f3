"""The page route, POST /messages: an SSE stream of HTML fragments for htmx."""

import re

from app.providers import fake
from tests.conftest import HTMX
from tests.scripted_model import ScriptedChatModel
from tests.sse_client import comments, decode_events, is_whole_pieces_joined


def post(client, message, **form):
    return client.post("/messages", headers=HTMX, data={"message": message, **form}, buffered=False)


def chunks_of(response):
    return [chunk.decode() for chunk in response.response]


def piece_texts(events):
    return [m.group(1) for e in events for m in [re.fullmatch(r'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*)</hx-partial>', e["data"], re.S)] if m]


def test_the_answer_streams_piece_by_piece_in_order(make_app):
    client = make_app(fake_chunks=5, fake_chunk_ms=100).test_client()
    response = post(client, "abcdefghij")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = chunks_of(response)
    assert chunks[0].startswith(":"), "a comment leaves before the model's first token"
    events = decode_events("".join(chunks))
    # Pieces that piled up while a busy machine was elsewhere leave as one, so
    # the check is order and content, not how many chunks there were.
    assert is_whole_pieces_joined(piece_texts(events), ["ab", "cd", "ef", "gh", "ij"])
    assert 'class="message user' in events[0]["data"] and "abcdefghij" in events[0]["data"]
    assert 'hx-swap="outerHTML"' in events[-1]["data"] and "outcome-complete" in events[-1]["data"]
    # the opening (comment and bubbles) in one chunk, then the pieces, each
    # written as it arrives, then the finished answer
    assert len(chunks) == 1 + len(piece_texts(events)) + 1


def test_user_and_model_text_are_escaped(make_app):
    model = ScriptedChatModel(pieces=["<script>alert(1)</script>", " <img src=x onerror=alert(2)>"])
    client = make_app(chat_model=model).test_client()
    body = "".join(chunks_of(post(client, "<b>hi</b>")))
    assert "<script>" not in body and "<img" not in body and "<b>hi" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;hi&lt;/b&gt;" in body


def test_an_empty_message_is_refused_with_a_clear_message(client):
    response = client.post("/messages", headers=HTMX, data={"message": "   "})
    assert response.status_code == 400
    assert b'hx-target="#composer-error"' in response.data
    assert b"Please type a message" in response.data


def test_an_oversized_message_is_refused_with_a_clear_message(make_app):
    client = make_app(max_message_chars=100).test_client()
    response = client.post("/messages", headers=HTMX, data={"message": "x" * 101})
    assert response.status_code == 413
    assert b"the limit is 100" in response.data


def test_a_model_error_mid_stream_shows_a_clear_error_and_keeps_the_partial(make_app, caplog):
    model = ScriptedChatModel(pieces=["first ", "second ", "never"], fail_after=2)
    client = make_app(chat_model=model).test_client()
    events = decode_events("".join(chunks_of(post(client, "hello"))))
    assert "".join(piece_texts(events)) == "first second "
    final = events[-1]["data"]
    assert "outcome-error" in final and "first second" in final
    assert "The model failed to answer" in final
    assert "secret-token-123" not in final and "Traceback" not in final
    assert "secret-token-123" in caplog.text, "the server log has the full error"


def test_a_disconnect_closes_the_model_stream(make_app):
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(200)], delay=0.01)
    client = make_app(chat_model=model).test_client()
    response = post(client, "hello")
    stream = iter(response.response)
    for _ in range(4):
        next(stream)
    response.close()  # the browser went away
    assert model.closed.wait(5), "the model stream was closed"
    assert model.yielded < 200


def test_a_client_gone_before_the_body_was_sent_stops_the_model_started_early(make_app):
    # The model is asked before the exchange is saved (to overlap its time
    # to first piece); a response closed unread must still stop it.
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(200)], delay=0.01)
    client = make_app(chat_model=model).test_client()
    post(client, "hello").close()
    assert model.closed.wait(5), "the model stream was closed"
    assert model.yielded < 200


def test_a_disconnect_stops_iterating_the_fake_provider(make_app):
    client = make_app(fake_chunks=50, fake_chunk_ms=10).test_client()
    closed_before = fake.OPEN_STREAMS.closed
    response = post(client, "x" * 50)
    stream = iter(response.response)
    for _ in range(4):
        next(stream)
    response.close()
    for _ in range(500):
        if fake.OPEN_STREAMS.closed > closed_before:
            break
        __import__("time").sleep(0.01)
    assert fake.OPEN_STREAMS.closed == closed_before + 1


def test_heartbeats_are_sent_while_the_model_is_silent(make_app):
    model = ScriptedChatModel(pieces=["late"], delay=0.35)
    client = make_app(chat_model=model, heartbeat_seconds=0.1).test_client()
    body = "".join(chunks_of(post(client, "hello")))
    assert comments(body).count(": ping") >= 2
    assert piece_texts(decode_events(body)) == ["late"]


def test_a_follow_up_sends_the_earlier_turns_to_the_model(make_app):
    model = ScriptedChatModel(pieces=["Baseball is a bat-and-ball game."])
    client = make_app(chat_model=model).test_client()
    first = "".join(chunks_of(post(client, "What is baseball?")))
    conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', first).group(1)
    "".join(chunks_of(post(client, "Who invented it?", conversation_id=conversation_id)))
    sent = [(m.type, m.text) for m in model.received[-1]]
    assert sent == [
        ("human", "What is baseball?"),
        ("ai", "Baseball is a bat-and-ball game."),
        ("human", "Who invented it?"),
    ]


def test_the_transcript_page_shows_the_rendered_answer(make_app):
    model = ScriptedChatModel(pieces=["**bold** <script>x</script>"])
    client = make_app(chat_model=model).test_client()
    first = "".join(chunks_of(post(client, "hello")))
    url = re.search(r'data-url="([^"]+)"', first).group(1)
    page = client.get(url).get_data(as_text=True)
    assert "<strong>bold</strong>" in page and "&lt;script&gt;" in page and "<script>x" not in page
    assert "Fake echo" in page, "the page says which model is answering"
