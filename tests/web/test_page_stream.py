"""The page's answer stream: a message POST returns the new bubbles, and the
answer's bubble subscribes to GET /answers/<id>/events, an SSE stream of HTML
fragments for htmx that can be resumed from any offset."""

import html
import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.providers import fake
from tests.conftest import HTMX
from app.rendering.markdown import split_for_streaming
from tests.page_flow import Bubble, answer_url, final_html, post, read_all, send, subscribe
from tests.scripted_model import ScriptedChatModel
from tests.sse_client import decode_events, heartbeats, is_whole_pieces_joined


def chunks_of(response):
    return [chunk.decode() for chunk in response.response]


def piece_events(events):
    """(event id, unescaped text) of each streamed piece, in order."""
    pattern = r'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*)</hx-partial>'
    return [(int(e["id"]), html.unescape(m.group(1))) for e in events for m in [re.fullmatch(pattern, e["data"], re.S)] if m]


def piece_texts(events):
    return [text for _id, text in piece_events(events)]


def test_the_post_returns_the_bubbles_and_the_answer_streams_piece_by_piece_in_order(make_app):
    client = make_app(fake_chunks=5, fake_chunk_ms=100).test_client()
    _conversation_id, answer_id, bubbles = post(client, "/messages", message="abcdefghij")
    assert 'class="message user' in bubbles and "abcdefghij" in bubbles
    assert f'id="m-{answer_id}"' in bubbles and "outcome-streaming" in bubbles
    assert answer_url(bubbles) == f"/answers/{answer_id}/events?offset=0"
    response = subscribe(client, bubbles)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Accel-Buffering"] == "no"
    chunks = chunks_of(response)
    assert chunks[0].startswith(":"), "a comment leaves before the model's first token"
    events = decode_events("".join(chunks))
    # Pieces that piled up while a busy machine was elsewhere leave as one, so
    # the check is order and content, not how many chunks there were.
    assert is_whole_pieces_joined(piece_texts(events), ["ab", "cd", "ef", "gh", "ij"])
    ids = [event_id for event_id, _text in piece_events(events)]
    assert ids == [len("".join(piece_texts(events)[: n + 1])) for n in range(len(ids))], "each id is the length so far"
    assert 'hx-swap="outerHTML"' in final_html("".join(chunks)) and "outcome-complete" in final_html("".join(chunks))
    assert events[-1]["event"] == "done", "a named close event: htmx does not reconnect"


def test_user_and_model_text_are_escaped(make_app):
    model = ScriptedChatModel(pieces=["<script>alert(1)</script>", " <img src=x onerror=alert(2)>"])
    client = make_app(chat_model=model).test_client()
    _conversation_id, body = send(client, "<b>hi</b>")
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
    _conversation_id, body = send(client, "hello")
    assert "".join(piece_texts(decode_events(body))) == "first second "
    final = final_html(body)
    assert "outcome-error" in final and "first second" in final
    assert "The model failed to answer" in final
    assert "secret-token-123" not in final and "Traceback" not in final
    assert "secret-token-123" in caplog.text, "the server log has the full error"


def test_stop_closes_the_model_stream(make_app):
    client = make_app(fake_chunks=50, fake_chunk_ms=10).test_client()
    closed_before = fake.OPEN_STREAMS.closed
    _conversation_id, answer_id, bubbles = post(client, "/messages", message="x" * 50)
    stream = iter(subscribe(client, bubbles).response)
    for _ in range(4):
        next(stream)
    assert b"Stopped." in client.post(f"/answers/{answer_id}/stop", headers=HTMX).data
    rest = "".join(chunk.decode() for chunk in stream)
    assert "outcome-stopped" in final_html(rest)
    deadline = time.monotonic() + 5  # the model's reader closes it after its current piece
    while fake.OPEN_STREAMS.closed == closed_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.OPEN_STREAMS.closed == closed_before + 1, "the model stream was closed"


def test_heartbeats_are_sent_while_the_model_is_silent(make_app):
    model = ScriptedChatModel(pieces=["late"], delay=0.35)
    client = make_app(chat_model=model, heartbeat_seconds=0.1).test_client()
    _conversation_id, body = send(client, "hello")
    assert len(heartbeats(body)) >= 2
    assert piece_texts(decode_events(body)) == ["late"]


def test_the_page_hears_a_heartbeat_at_least_every_five_seconds_whatever_the_programs_get(make_app):
    # static/stream_health.js reopens a stream silent for two of the periods
    # the bubble names: with the programs' 15 s, a frozen page would wait 30 s.
    model = ScriptedChatModel(pieces=["late"], delay=0.35)
    client = make_app(chat_model=model, heartbeat_seconds=15.0).test_client()
    _conversation_id, _answer_id, bubbles = post(client, "/messages", message="hello")
    assert 'data-heartbeat-seconds="5.0"' in bubbles
    assert client.application.config["CHAT"].page_heartbeat_seconds == 5.0
    client = make_app(chat_model=model, heartbeat_seconds=0.1).test_client()
    _conversation_id, _answer_id, bubbles = post(client, "/messages", message="hello")
    assert 'data-heartbeat-seconds="0.1"' in bubbles, "a shorter setting stands"
    assert len(heartbeats(read_all(subscribe(client, bubbles)))) >= 2


def test_a_follow_up_sends_the_earlier_turns_to_the_model(make_app):
    model = ScriptedChatModel(pieces=["Baseball is a bat-and-ball game."])
    client = make_app(chat_model=model).test_client()
    conversation_id, _body = send(client, "What is baseball?")
    send(client, "Who invented it?", conversation_id)
    sent = [(m.type, m.text) for m in model.received[-1]]
    assert sent == [
        ("human", "What is baseball?"),
        ("ai", "Baseball is a bat-and-ball game."),
        ("human", "Who invented it?"),
    ]


def test_the_transcript_page_shows_the_rendered_answer(make_app):
    model = ScriptedChatModel(pieces=["**bold** <script>x</script>"])
    client = make_app(chat_model=model).test_client()
    conversation_id, _body = send(client, "hello")
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "<strong>bold</strong>" in page and "&lt;script&gt;" in page and "<script>x" not in page
    assert "Fake echo" in page, "the page says which model is answering"
    assert "hx-sse:connect" not in page, "a finished answer subscribes to nothing"


def test_a_reconnect_with_last_event_id_sends_exactly_the_rest(make_app):
    pieces = ["Para one.\n\n", "Para ", "two & <three>", "\n\n```py\nx = 1\n", "```\n", "tail"]
    client = make_app(chat_model=ScriptedChatModel(pieces=pieces)).test_client()
    _conversation_id, answer_id, bubbles = post(client, "/messages", message="q")
    read_all(subscribe(client, bubbles))
    whole = "".join(pieces)
    for offset in range(len(whole) + 1):
        # the page has the first `offset` characters on screen, as a stream left them
        bubble = Bubble(split_for_streaming(whole[:offset]))
        body = read_all(subscribe(client, f"/answers/{answer_id}/events?offset=0", headers={"Last-Event-ID": str(offset)}))
        assert bubble.apply(body)
        assert bubble.parts == Bubble(split_for_streaming(whole)).parts, f"resumed at {offset}"
        assert "outcome-complete" in final_html(body)


def test_a_bad_offset_is_a_clear_400_and_a_strangers_answer_a_404(app):
    owner, stranger = app.test_client(), app.test_client()
    _conversation_id, answer_id, _bubbles = post(owner, "/messages", message="mine")
    response = owner.get(f"/answers/{answer_id}/events", headers={"Last-Event-ID": "-1"})
    assert response.status_code == 400 and b"whole number" in response.data
    assert stranger.get(f"/answers/{answer_id}/events").status_code == 404
    assert stranger.get(f"/answers/{answer_id}/progressive").status_code == 404
    assert owner.get("/answers/99999/events").status_code == 404


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=8), min_size=1, max_size=12),
    cuts=st.lists(st.integers(min_value=1, max_value=6), max_size=4),
)
def test_any_sequence_of_disconnects_and_resumes_yields_exactly_the_models_text(make_app, pieces, cuts):
    """A client that reads a few events, drops, and resumes from the last id it
    saw (as htmx does) ends with exactly what the model said."""
    client = make_app(chat_model=ScriptedChatModel(pieces=pieces)).test_client()
    _conversation_id, answer_id, _bubbles = post(client, "/messages", message="q")
    bubble, ended = Bubble(split_for_streaming("")), False
    for cut in [*cuts, None]:
        headers = {"Last-Event-ID": bubble.last_id} if bubble.last_id is not None else {}
        response = subscribe(client, f"/answers/{answer_id}/events?offset=0", headers=headers)
        body = ""
        for index, chunk in enumerate(response.response):
            body += chunk.decode()
            if cut is not None and index >= cut:
                break
        response.close()
        if bubble.apply(body):
            ended = True
            break
    assert ended and bubble.parts == Bubble(split_for_streaming("".join(pieces))).parts


def test_the_no_script_frame_and_the_event_stream_are_never_stored(app):
    """A private answer: `no-store`, not `no-cache` (which lets a cache keep a copy)."""
    client = app.test_client()
    _conversation_id, answer_id, _bubbles = post(client, "/messages", message="private")
    for url in (f"/answers/{answer_id}/progressive", f"/answers/{answer_id}/events"):
        response = client.get(url, buffered=True)
        assert response.headers["Cache-Control"] == "no-store", url
