"""Attached files reach Gemini byte for byte, on both transports: as inline
parts of the question that carried them, again with every follow-up and
with Regenerate; the page's thumbnail and full-size view are made from the
same file without its EXIF (a phone photo's GPS position is not served back)."""

import base64
import io
import re

import pytest

from tests.attachments.files import bomb, has_gps, photo, pdf_with_text
from tests.conftest import HTMX
from tests.page_flow import read_all, subscribe

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:app.providers.vertexai")

AUDIO = b"RIFF" + bytes(range(256)) * 4  # any bytes: they are passed on, not decoded


def send(client, message, files=(), conversation_id="", path="/messages"):
    data = {"message": message, "conversation_id": conversation_id,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    response = client.post(path, headers=HTMX, data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    read_all(subscribe(client, html))
    return re.search(r'name="conversation_id" value="([^"]+)"', html).group(1) if path == "/messages" else "", html


def inline_parts(request):
    """[(role, mime type, bytes)] of every inline part Gemini was sent, in order."""
    found = []
    for content in request.body["contents"]:
        for part in content.get("parts", []):
            if "inlineData" in part:
                blob = part["inlineData"]
                found.append((content.get("role"), blob["mimeType"], base64.b64decode(blob["data"])))
    return found


def test_files_reach_gemini_byte_for_byte_and_again_with_follow_ups(vertex_app, standin):
    standin.respond(pieces=["Seen."])
    client = vertex_app().test_client()
    picture, pdf = photo(), pdf_with_text("Quarterly numbers")
    conversation_id, _ = send(client, "What is in these?", [("photo.jpg", picture), ("report.pdf", pdf),
                                                            ("voice.wav", AUDIO)])
    first = inline_parts(standin.requests[0])
    assert first == [("user", "image/jpeg", picture), ("user", "application/pdf", pdf), ("user", "audio/wav", AUDIO)]
    assert has_gps(first[0][2]), "Gemini gets the file itself, metadata and all"

    send(client, "And the second page?", conversation_id=conversation_id)
    assert inline_parts(standin.requests[1]) == first, "a follow-up sends the earlier turn's files again"
    assert standin.requests[1].texts[-1] == ("user", "And the second page?")
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "photo.jpg" in page and "report.pdf" in page and "voice.wav" in page


def test_regenerate_and_edit_send_the_files_again(vertex_app, standin):
    standin.respond(pieces=["Seen."])
    client = vertex_app().test_client()
    picture = photo("PNG")
    conversation_id, _ = send(client, "Describe it", [("drawing.png", picture)])
    send(client, "", conversation_id=conversation_id, path=f"/c/{conversation_id}/regenerate")
    assert len(standin.requests) == 2
    assert inline_parts(standin.requests[1]) == [("user", "image/png", picture)]
    # Edit and resend: the edited question keeps the files of the one it replaces.
    send(client, "Describe its colour", conversation_id=conversation_id, path=f"/c/{conversation_id}/edit")
    assert len(standin.requests) == 3
    assert standin.requests[2].texts[0][1].startswith("Describe its colour")
    assert inline_parts(standin.requests[2]) == [("user", "image/png", picture)]


@pytest.mark.parametrize("standin", ["rest"], indirect=True)
def test_the_page_shows_a_thumbnail_and_a_full_size_view_without_the_gps_position(vertex_app, standin):
    standin.respond(pieces=["A red square."])
    client = vertex_app().test_client()
    picture = photo(size=(800, 600))
    _conversation_id, html = send(client, "Where was this taken?", [("IMG_0001.jpg", picture)])
    link = re.search(r'<a class="attachment-image" href="/attachments/(\d+)"', html).group(1)
    assert f'<img src="/attachments/{link}/thumbnail" alt="IMG_0001.jpg"' in html

    thumbnail = client.get(f"/attachments/{link}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert not has_gps(thumbnail.data) and b"PhoneMaker" not in thumbnail.data
    full = client.get(f"/attachments/{link}")
    assert full.status_code == 200 and full.headers["Content-Disposition"].startswith("inline")
    assert not has_gps(full.data) and b"PhoneMaker" not in full.data
    assert full.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in full.headers["Content-Security-Policy"]


@pytest.mark.parametrize("standin", ["rest"], indirect=True)
def test_a_decompression_bomb_and_a_file_that_lies_about_its_type_are_refused(vertex_app, standin):
    client = vertex_app().test_client()
    for name, content, sentence in (("huge.png", bomb(), "pixels"), ("fake.png", b"<html><script>", "not a PNG image"),
                                    ("fake.pdf", b"<svg/>", "not a PDF")):
        refused = client.post("/messages", headers=HTMX, content_type="multipart/form-data",
                              data={"message": "look", "files": [(io.BytesIO(content), name)]})
        assert refused.status_code == 415, refused.get_data(as_text=True)
        assert sentence in refused.get_data(as_text=True)
    assert standin.requests == []


def test_the_api_sends_json_attachments_to_gemini_exactly(vertex_app, standin):
    standin.respond(pieces=["Fine."])
    client = vertex_app().test_client()
    picture = photo("WEBP")
    reply = client.post("/api/chat", json={"message": "What is this?", "attachments": [
        {"name": "a.webp", "mime_type": "image/webp", "data": base64.b64encode(picture).decode()}]})
    assert reply.status_code == 200, reply.json
    assert inline_parts(standin.requests[0]) == [("user", "image/webp", picture)]
