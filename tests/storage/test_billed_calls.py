"""The operator's usage report cannot be erased by the person it reports on:
every answer the model was asked for is recorded when it ends, apart from the
messages, and Regenerate and Delete leave the record as it was."""

from sqlalchemy import select

from app.auth.people import owner_of, person_signing_in, usage
from app.storage.engine import session_for
from app.storage.models import BilledCall, Person
from tests.conftest import API_KEY, HTMX, api_client
from tests.page_flow import post, read_all, subscribe
from tests.scripted_model import ScriptedChatModel

USAGE = {"input_tokens": 1000, "output_tokens": 50, "total_tokens": 1050}


def billed_model():
    return ScriptedChatModel(pieces=["Paid ", "for."], finish_reason="STOP", usage=USAGE)


def signed_in_browser(app):
    """A browser whose conversations belong to a person, as after a sign-in."""
    with session_for(app) as db:
        person = person_signing_in(db, "proxy", "alice@example.com", "alice@example.com", "Alice")
        owner = owner_of(person)
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["owner"] = owner
    return browser, owner


def answered(browser, path, **data):
    conversation_id, _answer_id, html = post(browser, path, **data)
    read_all(subscribe(browser, html))
    return conversation_id


def alice_in_report(app):
    with session_for(app) as db:
        return next(row[1:] for row in usage(db) if row[0].email == "alice@example.com")


def test_regenerate_and_delete_leave_the_billed_calls_in_the_report(make_app):
    app = make_app(chat_model=billed_model())
    browser, owner = signed_in_browser(app)
    first = answered(browser, "/messages", message="first question")
    second = answered(browser, "/messages", message="second question")
    answered(browser, f"/c/{second}/regenerate")
    assert app.extensions["answer_tasks"].wait(timeout=30)
    assert alice_in_report(app) == (2, 3, 3000, 150)

    # The person deletes both conversations: what they were billed for stays.
    for conversation_id in (first, second):
        assert browser.post(f"/c/{conversation_id}/delete", headers=HTMX).status_code in (200, 302)
    assert alice_in_report(app) == (0, 3, 3000, 150)
    with session_for(app) as db:
        calls = db.scalars(select(BilledCall).order_by(BilledCall.id)).all()
        assert [(c.owner_id, c.conversation_id, c.input_tokens, c.output_tokens, c.outcome) for c in calls] == [
            (owner, first, 1000, 50, "complete"), (owner, second, 1000, 50, "complete"),
            (owner, second, 1000, 50, "complete"),
        ]
        assert db.scalar(select(Person.email)) == "alice@example.com"


def test_a_stopped_answer_is_recorded_and_one_that_never_reached_the_model_is_not(make_app):
    app = make_app(chat_model=ScriptedChatModel(pieces=["one ", "two ", "three"], fail_after=2))
    browser, owner = signed_in_browser(app)
    answered(browser, "/messages", message="this one fails midway")
    refused = make_app(chat_model=ScriptedChatModel(pieces=["never"], fail_after=0), upstream_retries=0)
    answered(signed_in_browser(refused)[0], "/messages", message="this one fails at once")
    assert app.extensions["answer_tasks"].wait(timeout=30)
    assert refused.extensions["answer_tasks"].wait(timeout=30)
    with session_for(app) as db:
        calls = db.scalars(select(BilledCall)).all()
    # Billed for what it wrote, with its tokens unknown; the refused one cost nothing.
    assert [(c.owner_id, c.outcome, c.input_tokens) for c in calls] == [(owner, "error", None)]


def test_answers_that_live_only_in_their_request_are_billed_too(make_app):
    """The API with its own history stores no conversation, so nothing the
    person deletes could ever show it: it is recorded as its request ends."""
    app = make_app(chat_model=billed_model(), api_keys=(API_KEY,))
    client = api_client(app)
    assert client.post("/api/chat", json={"message": "a", "history": []}).status_code == 200
    streamed = client.post("/api/chat/stream", json={"message": "b"}, buffered=False)
    assert "".join(chunk.decode() for chunk in streamed.response) == "Paid for."
    with session_for(app) as db:
        calls = db.scalars(select(BilledCall).order_by(BilledCall.id)).all()
        assert [(c.conversation_id, c.answer_id, c.input_tokens, c.output_tokens) for c in calls] == [
            (None, None, 1000, 50), (None, None, 1000, 50)]
        assert calls[0].owner_id == calls[1].owner_id and calls[0].owner_id.startswith("key")
