"""What an answer cost when its question carried files, on both transports:
Gemini counts an image, audio or video as input tokens and says which
(`promptTokensDetails`); the page's stats line says so ("1,200 in (258
image)"), keeps saying so after a reload, and the cost prices audio at its
own price (app/answers/prices.py). The JSON API and /v1 give the counts too."""

import base64
import html
import re

import pytest

from tests.attachments.files import photo
from tests.providers.test_gemini_attachments import AUDIO, send

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:app.providers.vertexai")


def stats_line(page):
    return re.sub(r"\s+", " ", html.unescape(re.search(r'<span class="stats">(.*?)</span>\s*</div>', page, re.S)[1]))


def test_an_answer_about_an_image_shows_its_image_tokens_after_a_reload(vertex_app, standin):
    standin.respond(pieces=["A red square."], usage=(1200, 30, 0), prompt_details={"TEXT": 942, "IMAGE": 258})
    client = vertex_app().test_client()
    conversation_id, _ = send(client, "What is this?", [("square.png", photo("PNG"))])
    stats = stats_line(client.get(f"/c/{conversation_id}").get_data(as_text=True))
    assert "1,200 in (258 image) · 30 out" in stats, stats


def test_audio_is_priced_at_the_audio_price_on_the_page_and_in_the_api(vertex_app, standin):
    # gemini-2.5-flash: 10,000 text tokens at $0.30/M and 90,000 audio tokens
    # at $1.00/M are $0.093; all at the text price they would be $0.03.
    standin.respond(pieces=["A voice."], usage=(100_000, 0, 0), prompt_details={"TEXT": 10_000, "AUDIO": 90_000})
    client = vertex_app().test_client()
    conversation_id, _ = send(client, "Who speaks?", [("voice.wav", AUDIO)])
    stats = stats_line(client.get(f"/c/{conversation_id}").get_data(as_text=True))
    assert "100,000 in (90,000 audio)" in stats and "cost $0.09 (estimate)" in stats, stats

    reply = client.post("/api/chat", json={"message": "Who speaks?", "attachments": [
        {"name": "voice.wav", "mime_type": "audio/wav", "data": base64.b64encode(AUDIO).decode()}]})
    assert reply.status_code == 200, reply.json
    assert reply.json["usage"]["input_tokens_by_modality"] == {"text": 10_000, "audio": 90_000}
    assert reply.json["cost"] == pytest.approx(0.093)


def test_v1_usage_gives_audio_and_image_tokens_in_openais_prompt_tokens_details(vertex_app, standin):
    standin.respond(pieces=["Fine."], usage=(300, 2, 0), prompt_details={"TEXT": 42, "IMAGE": 258})
    client = vertex_app().test_client()
    reply = client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Hi"}]})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.json["usage"]["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0,
                                                           "image_tokens": 258, "video_tokens": 0}
