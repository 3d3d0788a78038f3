"""Files attached to a message through the page and the API (Flask's client,
on the offline fake model): stored once per owner, shown in the transcript
after a reload, served only to their owner with safe headers, refused with
a sentence when too large, too many, of a type not allowed or over the
person's allowance, and deleted with their conversation."""

import base64
import io
import re

from sqlalchemy import func, select

from app.storage.engine import session_for
from app.storage.models import AttachmentFile, Conversation, MessageAttachment
from app.web.attachment_input import body_limit
from tests.attachments.files import pdf_with_text, photo
from tests.conftest import API_KEY, HTMX, api_client
from tests.page_flow import read_all, subscribe

NOTES = b"The meeting moved to Thursday, room 4.\n"


def send_with_files(client, message, files, conversation_id="", headers=HTMX):
    """A multipart POST as the page's form makes it; `files`: [(name, bytes)]."""
    data = {"message": message, "conversation_id": conversation_id,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/messages", headers=headers, data=data, content_type="multipart/form-data")


def answered(client, response):
    """The POST's bubbles, and the finished answer's stream."""
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    return html, read_all(subscribe(client, html))


def conversation_of(html):
    return re.search(r'name="conversation_id" value="([^"]+)"', html).group(1)


def attachment_links(html):
    return [int(i) for i in re.findall(r'href="/attachments/(\d+)"', html)]


def count(app, model):
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(model))


def test_a_text_file_is_read_by_the_offline_model_shown_after_a_reload_and_downloaded(make_app):
    app = make_app()
    client = app.test_client()
    html, stream = answered(client, send_with_files(client, "Summarise my notes", [("notes.txt", NOTES)]))
    assert "Thursday, room 4" in stream, "the fake model echoes what it read: the file's text"
    [link] = attachment_links(html)
    assert "notes.txt" in html and "text/plain" in html

    page = client.get(f"/c/{conversation_of(html)}").get_data(as_text=True)
    assert attachment_links(page) == [link] and "notes.txt" in page

    served = client.get(f"/attachments/{link}")
    assert served.status_code == 200 and served.data == NOTES
    assert served.mimetype == "text/plain"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "filename=notes.txt" in served.headers["Content-Disposition"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_a_pdfs_text_reaches_the_offline_model(make_app):
    client = make_app().test_client()
    pdf = pdf_with_text("The secret word is heliotrope")
    _html, stream = answered(client, send_with_files(client, "What is the word?", [("memo.pdf", pdf)]))
    assert "heliotrope" in stream


def test_the_offline_model_refuses_images_audio_and_video_with_a_sentence_and_saves_nothing(make_app):
    app = make_app()
    client = app.test_client()
    for name, content in (("photo.jpg", photo()), ("talk.mp3", b"ID3" + b"\0" * 100), ("clip.mp4", b"\0" * 100)):
        refused = send_with_files(client, "look", [(name, content)])
        assert refused.status_code == 415
        assert "the offline model reads text only" in refused.get_data(as_text=True)
    assert count(app, Conversation) == 0 and count(app, AttachmentFile) == 0


def test_the_file_input_lists_what_the_model_reads(make_app):
    page = make_app().test_client().get("/").get_data(as_text=True)
    accept = re.search(r'<input type="file" id="attach-files" name="files" multiple accept="([^"]+)"', page).group(1)
    assert ".txt" in accept and ".pdf" in accept and ".png" not in accept
    assert 'enctype="multipart/form-data"' in page and '<label for="attach-files"' in page
    assert "the offline model reads text only" in page


def test_too_large_too_many_and_not_allowed_are_refused_with_the_draft_kept(make_app):
    app = make_app(attachment_max_mb=0.001, attachments_per_message=2)
    client = app.test_client()
    too_big = send_with_files(client, "my draft", [("big.txt", b"x" * 1001)])
    assert too_big.status_code == 413 and "the limit is 0.001 MB per file" in too_big.get_data(as_text=True)
    too_many = send_with_files(client, "my draft", [(f"{n}.txt", b"x") for n in range(3)])
    assert too_many.status_code == 413 and "at most 2" in too_many.get_data(as_text=True)
    for name in ("tool.exe", "drawing.svg", "page.htm"):
        wrong = send_with_files(client, "my draft", [(name, b"<svg onload=alert(1)>")])
        assert wrong.status_code == 415 and "cannot be attached" in wrong.get_data(as_text=True)
    not_text = send_with_files(client, "my draft", [("data.csv", b"\xff\xfe\x00bad")])
    assert not_text.status_code == 415 and "not UTF-8 text" in not_text.get_data(as_text=True)
    # Without JavaScript the page comes back with the sentence and the draft.
    page = send_with_files(client, "my draft", [("big.txt", b"x" * 1001)], headers={})
    assert page.status_code == 413 and ">my draft</textarea>" in page.get_data(as_text=True)
    assert count(app, Conversation) == 0


def test_a_body_larger_than_any_allowed_files_is_refused_before_it_is_read(make_app):
    app = make_app(attachment_max_mb=0.001, attachments_per_message=1)
    refused = send_with_files(app.test_client(), "hi", [("big.txt", b"x" * (body_limit(app.config["CHAT"]) + 1024))])
    assert refused.status_code == 413
    assert "too much to send at once" in refused.get_data(as_text=True)


def test_another_owner_gets_404_for_a_file_and_its_thumbnail(make_app):
    app = make_app()
    owner = app.test_client()
    html, _stream = answered(owner, send_with_files(owner, "notes", [("notes.txt", NOTES)]))
    [link] = attachment_links(html)
    stranger = app.test_client()
    stranger.get("/")
    assert stranger.get(f"/attachments/{link}").status_code == 404
    assert stranger.get(f"/attachments/{link}/thumbnail").status_code == 404
    assert owner.get(f"/attachments/{link}").status_code == 200


def test_the_same_bytes_are_stored_once_counted_per_message_and_deleted_with_the_last_conversation(make_app):
    app = make_app()
    client = app.test_client()
    first, _ = answered(client, send_with_files(client, "one", [("notes.txt", NOTES)]))
    answered(client, send_with_files(client, "two", [("copy.txt", NOTES)], conversation_of(first)))
    other, _ = answered(client, send_with_files(client, "three", [("again.txt", NOTES)]))
    assert count(app, AttachmentFile) == 1 and count(app, MessageAttachment) == 3
    with session_for(app) as db:
        stored = db.scalar(select(Conversation.stored_bytes).where(Conversation.id == conversation_of(other)))
    assert stored >= len(NOTES), "a file counts in its owner's allowance"

    client.post(f"/c/{conversation_of(first)}/delete")
    assert count(app, MessageAttachment) == 1 and count(app, AttachmentFile) == 1, "still carried by another"
    client.post(f"/c/{conversation_of(other)}/delete")
    assert count(app, MessageAttachment) == 0 and count(app, AttachmentFile) == 0


def test_files_count_against_the_storage_allowance(make_app):
    app = make_app(storage_per_person_mb=0.01)
    client = app.test_client()
    refused = send_with_files(client, "keep this", [("big.txt", b"y" * 20_000)])
    assert refused.status_code == 413 and "delete some old conversations" in refused.get_data(as_text=True)
    assert count(app, AttachmentFile) == 0


def test_the_api_takes_base64_attachments_with_the_same_limits(make_app):
    app = make_app(api_keys=(API_KEY,), attachment_max_mb=0.001)
    program = api_client(app)
    encoded = base64.b64encode(NOTES).decode()
    reply = program.post("/api/chat", json={
        "message": "Read this", "conversation_id": "new",
        "attachments": [{"name": "notes.txt", "mime_type": "text/plain", "data": encoded}],
    })
    assert reply.status_code == 200, reply.json
    assert "Thursday, room 4" in reply.json["reply"]
    too_big = program.post("/api/chat", json={"message": "x", "attachments": [
        {"name": "big.txt", "mime_type": "text/plain", "data": base64.b64encode(b"z" * 1001).decode()}]})
    assert too_big.status_code == 413 and "0.001 MB" in too_big.json["error"]
    not_base64 = program.post("/api/chat", json={"message": "x", "attachments": [
        {"name": "a.txt", "mime_type": "text/plain", "data": "not base64!"}]})
    assert not_base64.status_code == 400 and "base64" in not_base64.json["error"]
    wrong_type = program.post("/api/chat/stream", json={"message": "x", "attachments": [
        {"name": "a.png", "mime_type": "image/png", "data": base64.b64encode(photo("PNG")).decode()}]})
    assert wrong_type.status_code == 415 and "the offline model reads text only" in wrong_type.json["error"]


def test_an_html_file_is_served_as_plain_text_to_download_never_as_a_page(make_app):
    client = make_app().test_client()
    page = b"<html><script>fetch('/api/chat')</script></html>"
    html, _stream = answered(client, send_with_files(client, "Review this", [("../../etc/page.html", page)]))
    [link] = attachment_links(html)
    assert "etc/" not in html, "the name is its last part, never a path"
    served = client.get(f"/attachments/{link}")
    assert served.data == page and served.mimetype == "text/plain"
    assert served.headers["Content-Disposition"] == "attachment; filename=page.html"
    assert client.get(f"/attachments/{link}/thumbnail").status_code == 404
