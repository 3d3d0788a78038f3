"""Stored conversations: multi-turn, listed, renamed, deleted, and private."""

import html
import re
import time

from app.storage.engine import session_for
from app.storage.models import Message
from tests.conftest import API_KEY, HTMX, api_client
from tests.scripted_model import ScriptedChatModel
from tests.page_flow import answer_url, final_html, post, read_all, send, subscribe
from tests.sse_client import decode_events


def html_unescape(text):
    return html.unescape(text)


def piece_texts(body):
    """The escaped text of each streamed piece, in order."""
    return re.findall(r'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*?)</hx-partial>', body)


def wait_for_outcome(app, answer_id, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with session_for(app) as db:
            outcome = db.get(Message, answer_id).outcome
        if outcome != "streaming":
            return outcome
        time.sleep(0.02)
    return "streaming"


def stored_answers(app):
    with session_for(app) as db:
        return [(m.content, m.outcome) for m in db.query(Message).filter_by(role="assistant").order_by(Message.id)]


def test_a_conversation_keeps_every_turn_and_opens_at_its_own_url(client):
    conversation_id, _ = send(client, "What is baseball?")
    assert send(client, "Who plays it?", conversation_id)[0] == conversation_id
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    for text in ("What is baseball?", "Who plays it?"):
        assert page.count(text) >= 2  # the question and the fake model's echo
    assert len(conversation_id) >= 22, "ids carry 128 random bits"


def test_the_sidebar_lists_conversations_newest_first_titled_from_the_first_message(client):
    send(client, "First conversation " + "x" * 100)
    time.sleep(0.01)
    send(client, "Second conversation")
    page = client.get("/").get_data(as_text=True)
    titles = re.findall(r'<li id="conv-[^"]+"[^>]*><a href="/c/[^"]+"[^>]*>([^<]+)</a>', page)
    assert titles[0] == "Second conversation"
    assert titles[1].startswith("First conversation x") and titles[1].endswith("…") and len(titles[1]) == 60


def test_rename_and_delete(client):
    conversation_id, _ = send(client, "hello")
    response = client.post(f"/c/{conversation_id}/rename", data={"title": "Baseball <notes>"})
    assert response.status_code == 302
    assert "Baseball &lt;notes&gt;" in client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert client.post(f"/c/{conversation_id}/delete").status_code == 302
    assert client.get(f"/c/{conversation_id}").status_code == 404
    assert "Baseball" not in client.get("/").get_data(as_text=True)


def test_another_browser_gets_404_for_everything(app):
    owner, stranger = app.test_client(), app.test_client()
    conversation_id, _ = send(owner, "my secret question")
    assert stranger.get(f"/c/{conversation_id}").status_code == 404
    assert stranger.post("/messages", headers=HTMX, data={"message": "hi", "conversation_id": conversation_id}).status_code == 404
    assert stranger.post(f"/c/{conversation_id}/rename", data={"title": "mine"}).status_code == 404
    assert stranger.post(f"/c/{conversation_id}/delete").status_code == 404
    # the API does not take the browser's cookie at all
    api = stranger.post("/api/chat", json={"message": "hi", "conversation_id": conversation_id})
    assert api.status_code == 403
    assert "my secret question" not in stranger.get("/").get_data(as_text=True)
    # and nothing the stranger tried changed it
    page = owner.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "my secret question" in page and "mine" not in page


def test_a_subscriber_that_goes_away_does_not_end_the_answer(make_app):
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(40)], delay=0.01)
    app = make_app(chat_model=model)
    client = app.test_client()
    _conversation_id, answer_id, html = post(client, "/messages", message="hello")
    response = subscribe(client, html)
    stream = iter(response.response)
    for _ in range(4):  # the opening comment, then three pieces
        next(stream)
    response.close()  # the tab was closed, reloaded or went elsewhere
    assert model.closed.wait(10) and model.yielded == 40, "the model was read to its end"
    assert wait_for_outcome(app, answer_id) == "complete"
    assert stored_answers(app) == [("".join(f"p{i} " for i in range(40)), "complete")]


def test_a_reload_mid_answer_shows_what_was_said_and_follows_the_rest(make_app):
    model = ScriptedChatModel(pieces=[f"p{i} " for i in range(60)], delay=0.01)
    app = make_app(chat_model=model, checkpoint_seconds=0.05)
    client = app.test_client()
    conversation_id, answer_id, html = post(client, "/messages", message="hello")
    first = subscribe(client, html)
    stream = iter(first.response)
    for _ in range(20):
        next(stream)
    first.close()
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "outcome-streaming" in page and "outcome-interrupted" not in page
    shown = re.search(rf'id="m-{answer_id}-text">([^<]*)<', page).group(1)
    assert shown.startswith("p0 p1 ")
    offset = int(re.search(r"offset=(\d+)", answer_url(page)).group(1))
    assert offset == len(shown)
    rest = read_all(subscribe(client, page))
    streamed = "".join(html_unescape(p) for p in piece_texts(rest))
    assert shown + streamed == "".join(f"p{i} " for i in range(60)), "nothing missing, nothing twice"
    assert "outcome-complete" in final_html(rest)
    assert decode_events(rest)[-1]["event"] == "done"


def test_failed_answers_are_stored_with_their_outcome(make_app):
    model = ScriptedChatModel(pieces=["half ", "never"], fail_after=1)
    app = make_app(chat_model=model)
    conversation_id, body = send(app.test_client(), "hello")
    assert "outcome-error" in final_html(body)
    assert stored_answers(app) == [("half ", "error")]


def test_the_model_gets_bounded_history_but_the_transcript_stays_whole(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    app = make_app(chat_model=model, history_max_turns=3)
    client = app.test_client()
    conversation_id, _ = send(client, "turn 1")
    for n in (2, 3):
        send(client, f"turn {n}", conversation_id)
    assert [m.text for m in model.received[-1]] == ["turn 2", "ok", "turn 3"]
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert all(f"turn {n}" in page for n in (1, 2, 3))


def test_a_program_can_hold_a_conversation_through_the_api(make_app):
    model = ScriptedChatModel(pieces=["answer"])
    app = make_app(chat_model=model, api_keys=(API_KEY,))
    client = api_client(app)
    first = client.post("/api/chat", json={"message": "What is baseball?", "conversation_id": "new"})
    conversation_id = first.json["conversation_id"]
    assert first.headers["X-Conversation-Id"] == conversation_id
    streamed = client.post("/api/chat/stream", json={"message": "More?", "conversation_id": conversation_id})
    assert streamed.headers["X-Conversation-Id"] == conversation_id
    assert streamed.get_data(as_text=True) == "answer"
    assert [m.text for m in model.received[-1]] == ["What is baseball?", "answer", "More?"]
    # it is the key's, not any browser's
    assert app.test_client().get(f"/c/{conversation_id}").status_code == 404


def test_when_saving_an_exchange_fails_nothing_is_half_saved_and_no_model_is_asked(make_app, monkeypatch):
    from app.storage import queries

    model = ScriptedChatModel(pieces=["a", "b", "c", "d", "e"])
    app = make_app(chat_model=model)
    client = app.test_client()
    conversation_id, _ = send(client, "kept")
    real_add_exchange = queries.add_exchange

    def add_then_fail(*args, **kwargs):
        real_add_exchange(*args, **kwargs)  # the rows are written, then the disk fills up
        raise RuntimeError("disk full")

    monkeypatch.setattr(queries, "add_exchange", add_then_fail)
    asked = len(model.received)
    for target in ("", conversation_id):  # a new conversation, and an existing one
        response = client.post("/messages", headers=HTMX, data={"message": "lost", "conversation_id": target})
        assert response.status_code == 500
    assert len(model.received) == asked
    with session_for(app) as db:
        assert [m.content for m in db.query(Message).order_by(Message.id)] == ["kept", "abcde"]
