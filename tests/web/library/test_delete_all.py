"""Delete all my data: every conversation, message, file link, file no one
else carries and shared link of the person asking, and nothing of anyone
else's; only after the word is typed; with the page's token; rate-limited.
(SQLite and PostgreSQL.)"""

import re

from flask.testing import FlaskClient

from app.storage.engine import session_for
from app.storage.models import AttachmentFile, BilledCall, Message, MessageAttachment, Share
from tests.attachments.test_attachment_routes import count
from tests.page_flow import send
from tests.web.library.conversation_rows import owner_of
from tests.web.library.data_flow import conversation_count, delete_all, some_conversations


def share_link(client, conversation_id):
    response = client.post(f"/c/{conversation_id}/share", data={})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:300]
    with session_for(client.application) as db:
        token = db.query(Share).filter_by(conversation_id=conversation_id).one().token
    return f"/s/{token}"


def rows_of(app, owner):
    with session_for(app) as db:
        conversations = [c for c in db.query(Message).all() if c.conversation.owner_id == owner]
        files = db.query(AttachmentFile).filter_by(owner_id=owner).count()
        return len(conversations), files


def test_delete_all_removes_everything_of_theirs_and_nothing_of_anothers(app, client):
    mine = some_conversations(client)
    link = share_link(client, mine[1])
    other = app.test_client()
    theirs = some_conversations(other)  # the same file's bytes, kept as theirs
    their_link = share_link(other, theirs[1])
    billed = count(app, BilledCall)
    assert client.get(link).status_code == 200

    page = client.get("/account/data").get_data(as_text=True)
    assert "You keep 2 conversations, 6 messages and 1 attached file here." in page
    response = delete_all(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/data?deleted=2#delete")
    assert "Deleted 2 conversations" in client.get(response.headers["Location"]).get_data(as_text=True)

    assert conversation_count(app, owner_of(client)) == 0 and rows_of(app, owner_of(client)) == (0, 0)
    assert client.get(f"/c/{mine[0]}").status_code == 404
    assert app.test_client().get(link).status_code == 404
    # The other person's are whole: conversations, messages, their file, their link.
    assert conversation_count(app, owner_of(other)) == 2 and rows_of(app, owner_of(other)) == (6, 1)
    assert count(app, MessageAttachment) == 1 and count(app, Share) == 1
    assert app.test_client().get(their_link).status_code == 200
    assert other.get(f"/c/{theirs[0]}").status_code == 200
    # What answers cost stays for the operator; the person goes on as before.
    assert count(app, BilledCall) == billed
    conversation_id, _ = send(client, "Still here?")
    assert client.get(f"/c/{conversation_id}").status_code == 200


def test_nothing_is_deleted_without_the_word(app, client):
    some_conversations(client)
    for typed in ("", "delete", "yes"):
        refused = delete_all(client, confirm=typed)
        assert refused.status_code == 400
        assert "Type DELETE in the box to confirm. Nothing was deleted." in refused.get_data(as_text=True)
    assert conversation_count(app, owner_of(client)) == 2


def test_delete_all_needs_the_pages_token(app, client):
    some_conversations(client)
    bare = FlaskClient(app, use_cookies=True)
    bare.get("/")
    with client.session_transaction() as theirs, bare.session_transaction() as copied:
        copied["owner"] = theirs["owner"]  # their cookie, without the page's token
    assert bare.post("/account/data/delete", data={"confirm": "DELETE"}).status_code == 400
    assert conversation_count(app, owner_of(client)) == 2


def test_delete_all_is_rate_limited_per_owner(make_app):
    app = make_app(rate_messages_per_minute=100)
    client = app.test_client()
    statuses = [delete_all(client).status_code for _ in range(11)]
    assert statuses[:10] == [303] * 10 and statuses[10] == 429


def test_the_page_says_what_stays_and_is_linked_from_the_sidebar(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/account/data"' in page
    data_page = client.get("/account/data").get_data(as_text=True)
    assert "Your sign-in stays" in data_page
    assert re.search(r'<input type="file" id="import-file" name="file"', data_page)
    assert 'href="/export/conversations.json?files=include" download' in data_page
