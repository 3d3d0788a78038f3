"""A person's data through the Flask client: conversations with files made
on the page, the export downloaded, imported back, everything deleted."""

import io
import json

from sqlalchemy import func, select

from app.storage.engine import session_for
from app.storage.models import Conversation
from tests.attachments.test_attachment_routes import answered, conversation_of, send_with_files
from tests.page_flow import send

NOTES = b"The meeting moved to Thursday, room 4.\n"


def some_conversations(client):
    """Two conversations, one of two exchanges with a file; their ids."""
    first, _ = answered(client, send_with_files(client, "Summarise my notes", [("notes.txt", NOTES)]))
    first = conversation_of(first)
    send(client, "And the room?", conversation_id=first)
    second, _ = send(client, "What is a tide?")
    return [first, second]


def export(client, files=True):
    response = client.get("/export/conversations.json" + ("?files=include" if files else ""))
    assert response.status_code == 200
    return response.get_data()


def import_file(client, content, name="export.json"):
    return client.post("/account/data/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def delete_all(client, confirm="DELETE"):
    return client.post("/account/data/delete", data={"confirm": confirm})


def comparable(document):
    """An export as a person sees it: each conversation's content, without
    the ids and time of this export (an import gives new ids)."""
    conversations = []
    for conversation in document["conversations"]:
        kept = {key: value for key, value in conversation.items() if key != "id"}
        kept["messages"] = [{key: value for key, value in message.items() if key != "id"}
                            for message in conversation["messages"]]
        conversations.append(kept)
    return sorted(conversations, key=lambda c: c["created_at"] + c["title"])


def conversation_count(app, owner=None):
    with session_for(app) as db:
        query = select(func.count()).select_from(Conversation)
        if owner is not None:
            query = query.where(Conversation.owner_id == owner)
        return db.scalar(query)


def as_json(content):
    return json.loads(content)
