"""Many stored conversations at once, written straight to the database (the
page's own flow takes a model's answer per conversation)."""

from datetime import datetime, timedelta

from app.storage.engine import session_for
from app.storage.models import Conversation, Message


def owner_of(client):
    client.get("/")
    with client.session_transaction() as session:
        return session["owner"]


def store_conversations(app, owner_id, count, same_time=False, words=lambda n: f"conversation number {n}"):
    """`count` conversations of `owner_id`, each a question and an answer;
    conversation n was updated n minutes after the first (or all at one time).
    Their ids, newest first."""
    start = datetime(2026, 1, 1)
    ids = []
    with session_for(app) as db:
        for n in range(count):
            at = start if same_time else start + timedelta(minutes=n)
            conversation = Conversation(owner_id=owner_id, title=f"Title {n}", created_at=at, updated_at=at)
            conversation.messages = [
                Message(role="user", content=words(n), created_at=at),
                Message(role="assistant", content=f"Answer to {words(n)}", created_at=at, model="fake-echo"),
            ]
            db.add(conversation)
            ids.append(conversation)
        db.commit()
        ordered = sorted(ids, key=lambda c: (c.updated_at, c.id), reverse=True)
        return [c.id for c in ordered]
