"""Exports: one conversation as Markdown, all of them as one streamed JSON
file; owner-only, always downloads."""

import base64
import hashlib
import json

from app.providers.grounding import Grounding, Source
from app.storage.engine import session_for
from app.storage.models import Message
from tests.page_flow import send
from tests.web.library.conversation_rows import owner_of, store_conversations


def test_markdown_export_holds_questions_answers_thinking_and_sources_as_links(app, client):
    conversation_id, _ = send(client, "What is a **tide**?")
    with session_for(app) as db:
        answer = db.query(Message).filter_by(conversation_id=conversation_id, role="assistant").one()
        answer.content = "The sea rises and falls."
        answer.thoughts = "The person asks about tides.\nThink of the moon."
        answer.grounding = Grounding(sources=(
            Source(uri="https://example.org/tides page", title="Tides [explained]", domain="example.org"),
            Source(uri="javascript:alert(1)", title="bad", domain="x"),
        )).to_json()
        db.commit()
    response = client.get(f"/c/{conversation_id}/export.md")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="What-is-a-tide.md"')
    assert response.mimetype == "text/markdown"
    text = response.get_data(as_text=True)
    assert text.startswith("# What is a tide?\n")
    question, answer_part = text.split("## Question", 1)[1].split("## Answer", 1)
    assert "What is a **tide**?" in question
    assert "> **Thinking**\n>\n> The person asks about tides.\n> Think of the moon." in answer_part
    assert "The sea rises and falls." in answer_part
    assert "1. [Tides \\[explained\\]](<https://example.org/tides%20page>)" in answer_part
    assert "javascript:" not in text


def test_markdown_export_is_owner_only(app, client):
    conversation_id, _ = send(client, "private thing")
    stranger = app.test_client()
    assert stranger.get(f"/c/{conversation_id}/export.md").status_code == 404
    assert client.get("/c/nonexistent/export.md").status_code == 404


def test_json_export_streams_every_conversation_of_the_owner_only(app, client):
    owner = owner_of(client)
    expected = store_conversations(app, owner, 120)
    store_conversations(app, owner_of(app.test_client()), 5, words=lambda n: f"someone else's {n}")
    response = client.get("/export/conversations.json", buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="chat-conversations-')
    assert response.is_streamed
    pieces = [chunk for chunk in response.response]
    assert len(pieces) > len(expected)  # written a conversation at a time
    document = json.loads(b"".join(pieces))
    assert document["format"] == "chat-export" and document["version"] == 1
    assert [c["id"] for c in document["conversations"]] == expected
    first = document["conversations"][0]
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
    assert first["messages"][1]["content"] == "Answer to conversation number 119"
    assert set(first) >= {"id", "title", "created_at", "updated_at", "model", "instructions", "messages"}
    assert "someone else's" not in b"".join(pieces).decode()


def test_json_export_of_nothing_is_an_empty_list(client):
    document = json.loads(client.get("/export/conversations.json").get_data())
    assert document["conversations"] == []


def test_export_links_are_on_the_page(client):
    conversation_id, _ = send(client, "hello")
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert f'href="/c/{conversation_id}/export.md" download' in page
    assert 'href="/export/conversations.json" download' in page


def test_exports_name_attached_files_and_carry_their_bytes_only_when_asked(client):
    from tests.web.library.data_flow import NOTES, some_conversations

    with_file, _ = some_conversations(client)
    markdown = client.get(f"/c/{with_file}/export.md").get_data(as_text=True)
    assert "**Attached:**\n\n- notes.txt (text/plain, 39 bytes)" in markdown
    named = json.loads(client.get("/export/conversations.json").get_data())
    conversation = next(c for c in named["conversations"] if c["id"] == with_file)
    question = conversation["messages"][0]
    assert question["attachments"] == [{"name": "notes.txt", "mime_type": "text/plain", "size": len(NOTES),
                                        "sha256": hashlib.sha256(NOTES).hexdigest()}]
    assert conversation["messages"][1]["attachments"] == [] and conversation["origin"] == with_file
    response = client.get("/export/conversations.json?files=include", buffered=False)
    assert "-with-files.json" in response.headers["Content-Disposition"]
    included = json.loads(b"".join(response.response))
    question = next(c for c in included["conversations"] if c["id"] == with_file)["messages"][0]
    assert base64.b64decode(question["attachments"][0]["data"]) == NOTES
