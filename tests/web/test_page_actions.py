"""Stop, regenerate, edit and resend, and the page without JavaScript."""

import re

from app.rendering.markdown import BlockSplitter
from app.rendering.page_events import piece_event
from tests.conftest import HTMX
from tests.scripted_model import ScriptedChatModel
from tests.page_flow import final_html, post, read_all, send, subscribe
from tests.web.test_conversations import stored_answers


def start_a_long_answer(make_app, **settings):
    """An answer of 200 slow pieces, followed up to its first piece."""
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(200)], delay=0.01)
    app = make_app(chat_model=model, **settings)
    client = app.test_client()
    _conversation_id, answer_id, bubbles = post(client, "/messages", message="hi")
    response = subscribe(client, bubbles)
    stream = iter(response.response)
    next(stream)  # the opening comment
    next(stream)
    return model, app, client, response, stream, answer_id


def test_regenerate_answers_the_last_question_again_and_replaces_the_old_answer(make_app):
    model = ScriptedChatModel(pieces=["an answer"])
    app = make_app(chat_model=model)
    client = app.test_client()
    conversation_id, body = send(client, "What is baseball?")
    old_answer_id = re.findall(r'id="m-(\d+)"', body)[1]
    _conversation_id, answer_id, bubbles = post(client, f"/c/{conversation_id}/regenerate")
    assert f'hx-target="#m-{old_answer_id}" hx-swap="delete"' in bubbles
    assert "outcome-complete" in final_html(read_all(subscribe(client, bubbles)))
    assert [m.text for m in model.received[-1]] == ["What is baseball?"]
    assert stored_answers(app) == [("an answer", "complete")]


def test_edit_replaces_the_last_question_and_its_answer(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    app = make_app(chat_model=model)
    client = app.test_client()
    conversation_id, _ = send(client, "first")
    send(client, "secnod", conversation_id)
    _conversation_id, _answer_id, bubbles = post(client, f"/c/{conversation_id}/edit", message="second")
    read_all(subscribe(client, bubbles))
    assert [m.text for m in model.received[-1]] == ["first", "ok", "second"]
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "secnod" not in page and "second" in page


def test_only_the_owner_can_stop_regenerate_or_edit(app):
    owner, stranger = app.test_client(), app.test_client()
    conversation_id, body = send(owner, "mine")
    answer_id = re.findall(r'id="m-(\d+)"', body)[1]
    assert stranger.post(f"/answers/{answer_id}/stop").status_code == 404
    assert stranger.post(f"/c/{conversation_id}/regenerate", headers=HTMX).status_code == 404
    assert stranger.post(f"/c/{conversation_id}/edit", headers=HTMX, data={"message": "x"}).status_code == 404


def test_stop_ends_a_stream_in_this_process_as_stopped(make_app):
    model, app, client, response, stream, answer_id = start_a_long_answer(make_app)
    assert b"Stopped." in client.post(f"/answers/{answer_id}/stop", headers=HTMX).data
    rest = "".join(c.decode() for c in stream)
    assert "outcome-stopped" in final_html(rest)
    assert model.closed.wait(5) and model.yielded < 200
    [(content, outcome)] = stored_answers(app)
    assert outcome == "stopped" and content.startswith("p0 ")


def test_without_javascript_a_post_shows_the_conversation_and_the_answer_streams_in_a_frame(make_app):
    model = ScriptedChatModel(pieces=["plain ", "<form> ", "answer"], delay=0.2)
    client = make_app(chat_model=model).test_client()
    response = client.post("/messages", data={"message": "plain form"})
    assert response.status_code == 303 and response.location.startswith("/c/")
    page = client.get(response.location).get_data(as_text=True)
    frame = re.search(r'<noscript><iframe[^>]* src="([^"]+)"', page).group(1).replace("&amp;", "&")
    document = client.get(frame, buffered=False)
    assert document.mimetype == "text/html" and "frame-ancestors 'self'" in document.headers["Content-Security-Policy"]
    chunks = [chunk.decode() for chunk in document.response]
    assert len(chunks) >= 3, "the document grows as the answer is written"
    body = "".join(chunks)
    assert "plain &lt;form&gt; answer</div>" in body and "Show it with its formatting" in body
    assert "outcome-complete" in client.get(response.location).get_data(as_text=True)


def test_without_javascript_an_error_shows_on_the_page_and_keeps_the_draft(make_app):
    client = make_app(max_message_chars=5).test_client()
    response = client.post("/messages", data={"message": "too long"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "the limit is 5" in page and ">too long</textarea>" in page


def test_streamed_markdown_work_per_piece_does_not_grow_with_the_answer():
    splitter = BlockSplitter()
    sizes = []
    for n in range(400):
        text = f"word{n} " + ("\n\n" if n % 10 == 9 else "")
        sizes.append(len(piece_event(1, splitter, text, n)))
    # events carry the piece, or one finished paragraph: never the answer so far
    assert max(sizes[-50:]) <= max(sizes[:50]) + 20


def test_a_stop_marked_by_another_process_is_seen_at_the_next_checkpoint(make_app):
    from app.storage import queries
    from app.storage.engine import session_for

    model, app, client, response, stream, answer_id = start_a_long_answer(make_app)
    with session_for(app) as db, client.session_transaction() as cookie:
        assert queries.mark_stopped(db, cookie["owner"], answer_id)  # what another worker's /stop does
    assert model.closed.wait(5), "the generator saw the mark at its next checkpoint"
    assert "outcome-stopped" in final_html("".join(c.decode() for c in stream))
    [(content, outcome)] = stored_answers(app)
    assert outcome == "stopped" and content.startswith("p0 ")
