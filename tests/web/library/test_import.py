"""Import: an export file brought back, all or nothing, without duplicates,
for the importer only (SQLite and PostgreSQL)."""

import base64
import html
import io
import json

from flask.testing import FlaskClient

from app.storage.engine import session_for
from app.storage.models import AttachmentFile, Message, MessageAttachment
from tests.conftest import api_client
from tests.web.library.conversation_rows import owner_of
from tests.web.library.data_flow import (
    as_json, comparable, conversation_count, delete_all, export, import_file, some_conversations,
)
from tests.attachments.test_attachment_routes import count


def test_an_export_deleted_and_imported_comes_back_the_same_with_its_files(app, client):
    some_conversations(client)
    before = export(client)
    assert delete_all(client).status_code == 303
    assert conversation_count(app) == 0
    response = import_file(client, before)
    assert response.status_code == 303 and "imported=2&already=0" in response.headers["Location"]
    after = export(client)
    assert comparable(as_json(after)) == comparable(as_json(before))
    # The file is back, byte for byte, and served on the page.
    first = [c for c in as_json(after)["conversations"] if c["messages"][0]["attachments"]][0]
    page = client.get(f"/c/{first['id']}").get_data(as_text=True)
    assert "notes.txt" in page and "And the room?" in page
    attached = first["messages"][0]["attachments"][0]
    assert base64.b64decode(attached["data"]) == b"The meeting moved to Thursday, room 4.\n"
    # Answers are stored ended, with their outcome: nothing streams.
    with session_for(app) as db:
        assert {m.outcome for m in db.query(Message).filter_by(role="assistant")} == {"complete"}


def test_importing_the_same_file_twice_adds_nothing_the_second_time(app, client):
    some_conversations(client)
    exported = export(client)
    # Into the account it came from: the originals are found by their ids.
    assert "imported=0&already=2" in import_file(client, exported).headers["Location"]
    assert conversation_count(app) == 2
    delete_all(client)
    assert "imported=2&already=0" in import_file(client, exported).headers["Location"]
    messages, files = count(app, Message), count(app, MessageAttachment)
    assert "imported=0&already=2" in import_file(client, exported).headers["Location"]
    assert (conversation_count(app), count(app, Message), count(app, MessageAttachment)) == (2, messages, files)
    # An export of the imported copies names where they came from: no duplicates either.
    assert "imported=0&already=2" in import_file(client, export(client)).headers["Location"]


def test_another_persons_import_of_the_same_file_is_their_own(app, client):
    some_conversations(client)
    exported = export(client)
    other = app.test_client()
    assert "imported=2" in import_file(other, exported).headers["Location"]
    assert conversation_count(app, owner_of(client)) == 2 and conversation_count(app, owner_of(other)) == 2
    # Their copies open for them only; the first person still has exactly theirs.
    theirs = as_json(export(other))["conversations"]
    assert client.get(f"/c/{theirs[0]['id']}").status_code == 404
    assert other.get(f"/c/{theirs[0]['id']}").status_code == 200
    assert len(as_json(export(client))["conversations"]) == 2
    # The file's bytes are the other person's own copy.
    with session_for(app) as db:
        assert {f.owner_id for f in db.query(AttachmentFile)} == {owner_of(client), owner_of(other)}


def test_an_export_without_files_imports_where_the_files_are_kept_and_is_refused_where_not(app, client):
    some_conversations(client)
    named_only = export(client, files=False)
    attachment = [m for c in as_json(named_only)["conversations"] for m in c["messages"] if m["attachments"]][0]
    assert "data" not in attachment["attachments"][0] and len(attachment["attachments"][0]["sha256"]) == 64
    other = app.test_client()
    refused = import_file(other, named_only)
    assert refused.status_code == 400
    assert "notes.txt was exported without its bytes" in refused.get_data(as_text=True)
    assert conversation_count(app, owner_of(other)) == 0


def broken(document, change):
    document = json.loads(json.dumps(document))
    change(document)
    return json.dumps(document, indent=1).encode()


def test_bad_files_are_refused_with_where_and_nothing_is_stored(make_app):
    app = make_app(max_message_chars=100)
    client = app.test_client()
    some_conversations(client)
    exported = export(client)
    good = as_json(exported)
    other = app.test_client()
    owner_of(other)
    long_question = "x" * 101
    cases = {
        b"not json at all": "Line 1: expected a JSON object ({) at the start of the file",
        # Cut short inside the second conversation (a download that broke off).
        exported[:exported.index(b"Summarise my")]: "Line 3: this is not JSON",
        b'{"format": "chat-export", "version": 1, "conversations": [\n{"id": "a", "x": [1, 2}]}': "Line 2: this is not JSON",
        b'{"conversations": []}': 'its "format" must be "chat-export"',
        broken(good, lambda d: d.update(version=2)): "version is 2",
        broken(good, lambda d: d["conversations"][1]["messages"][0].update(content=long_question)):
            "conversation 2: message 1 (a question) is 101 characters long; the limit is 100",
        broken(good, lambda d: d["conversations"][1]["messages"][1].update(outcome="finished")):
            "conversation 2: message 2's outcome must be one of",
        broken(good, lambda d: d["conversations"][0].update(created_at="yesterday")):
            "conversation 1: its created_at must be an ISO 8601 time",
        broken(good, lambda d: d["conversations"][1]["messages"][0]["attachments"][0].update(name="run.exe")):
            "run.exe: that type of file cannot be attached",
        broken(good, lambda d: d["conversations"][1]["messages"][0]["attachments"][0].update(
            data=base64.b64encode(b"changed").decode())): "its bytes do not match its sha256",
    }
    for content, expected in cases.items():
        response = import_file(other, content)
        text = response.get_data(as_text=True)
        assert response.status_code in (400, 415), (expected, text[:300])
        assert expected in html.unescape(text), (expected, text)
        assert "Nothing was imported." in text
    # The first conversation of the last files was good: nothing of it stayed either.
    assert conversation_count(app, owner_of(other)) == 0
    assert count(app, Message) == 6 and count(app, AttachmentFile) == 1


def test_where_a_bad_conversation_is_is_said_by_its_line(client):
    document = ('{"format": "chat-export", "version": 1, "conversations": [\n'
                '{"id": "a", "title": "t", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",'
                ' "messages": [{"role": "user", "content": "hi", "created_at": "2026-01-01T00:00:00Z"}]},\n'
                '{"id": "b", "messages": "none"}\n]}\n')
    text = import_file(client, document.encode()).get_data(as_text=True)
    assert "Line 3, conversation 2: its messages must be a list" in text


def test_a_file_over_the_import_limit_is_refused_before_it_is_read(make_app):
    app = make_app(import_max_mb=0.01)
    client = app.test_client()
    response = import_file(client, b" " * 100_000)
    assert response.status_code == 413
    assert "this server imports files of at most 0.01 MB" in response.get_data(as_text=True)


def test_an_import_needs_the_pages_token_and_a_file(app, client):
    bare = FlaskClient(app, use_cookies=True)  # has the cookie, sends no token
    bare.get("/")
    refused = bare.post("/account/data/import", data={"file": (io.BytesIO(b"{}"), "x.json")},
                        content_type="multipart/form-data")
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    none_chosen = client.post("/account/data/import", data={}, content_type="multipart/form-data")
    assert none_chosen.status_code == 400 and "Choose an export file" in none_chosen.get_data(as_text=True)


def test_imports_are_rate_limited_per_owner(make_app):
    app = make_app(rate_messages_per_minute=100)
    client = app.test_client()
    empty = b'{"format": "chat-export", "version": 1, "conversations": []}'
    statuses = [import_file(client, empty).status_code for _ in range(21)]
    assert statuses[:20] == [303] * 20 and statuses[20] == 429


def test_the_api_imports_for_the_key_and_says_what_it_did(make_app):
    app = make_app(api_keys=("tests-api-key-" + "k" * 24,))
    page = app.test_client()
    some_conversations(page)
    exported = export(page)
    program = api_client(app)
    response = program.post("/api/import", data=exported, content_type="application/json")
    assert response.status_code == 201 and response.get_json() == {"imported": 2, "already_here": 0}
    again = program.post("/api/import", data={"file": (io.BytesIO(exported), "e.json")},
                         content_type="multipart/form-data")
    assert again.status_code == 200 and again.get_json() == {"imported": 0, "already_here": 2}
    bad = program.post("/api/import", data=b'{"format": "other"}', content_type="application/json")
    assert bad.status_code == 400 and "Nothing was imported." in bad.get_json()["error"]
    assert app.test_client().post("/api/import", data=exported, content_type="application/json").status_code == 401


def test_an_import_over_the_storage_allowance_is_refused_whole(make_app):
    app = make_app(storage_per_person_mb=0.002)  # 2,000 bytes: less than the three conversations' text
    client = app.test_client()
    owner_of(client)
    document = {"format": "chat-export", "version": 1, "conversations": [
        {"id": f"c{n}", "title": "t", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
         "messages": [{"role": "user", "content": "x" * 900, "created_at": "2026-01-01T00:00:00Z"}]}
        for n in range(3)]}
    response = import_file(client, json.dumps(document).encode())
    assert response.status_code == 413
    assert ("yours would take 0.003 MB, and this server keeps at most 0.002 MB for each person"
            in response.get_data(as_text=True))
    assert conversation_count(app, owner_of(client)) == 0
