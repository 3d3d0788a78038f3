"""The message limit fits a model that reads a million tokens: 100,000
characters by default, and a message within it is never refused for the size
of its body, however it is encoded (each character at its costliest: a
4-byte UTF-8 character percent-encoded in a form, or a JSON surrogate pair)."""

import json
from urllib.parse import urlencode

from app.config import Config, load_config, max_body_bytes
from tests.conftest import API_KEY, HTMX, api_client
from tests.scripted_model import ScriptedChatModel

EMOJI = "\U0001F600"  # 4 bytes of UTF-8; %F0%9F%98%80 in a form, \ud83d\ude00 in JSON


def test_the_default_limit_is_a_pasted_document():
    assert Config().max_message_chars == 100_000
    assert max_body_bytes(Config()) >= 12 * 100_000


def test_the_longest_message_is_taken_as_json_with_every_character_escaped(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    app = make_app(chat_model=model, api_keys=(API_KEY,), max_message_chars=Config().max_message_chars)
    limit = app.config["CHAT"].max_message_chars
    body = json.dumps({"message": EMOJI * limit})  # ensure_ascii: 12 bytes a character
    assert len(body) > 1024 * 1024, "more than the old 1 MiB body limit"
    response = api_client(app).post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    assert model.received[0][-1].text == EMOJI * limit


def test_the_longest_message_is_taken_from_a_form_without_files(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    app = make_app(chat_model=model, max_message_chars=Config().max_message_chars)
    limit = app.config["CHAT"].max_message_chars
    client = app.test_client()  # sends the page's CSRF token (tests/conftest.py)
    body = urlencode({"message": EMOJI * limit})
    assert len(body) > 1024 * 1024
    response = client.post("/messages", headers=HTMX, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_one_character_over_the_limit_is_refused_in_words(make_app):
    app = make_app(api_keys=(API_KEY,))
    limit = app.config["CHAT"].max_message_chars
    response = api_client(app).post("/api/chat", json={"message": "x" * (limit + 1)})
    assert response.status_code == 413
    assert response.json["error"] == f"That message is {limit + 1:,} characters long; the limit is {limit:,}."


def test_the_offline_model_keeps_a_limit_its_context_holds():
    # Its 4,096 tokens hold about 8,000 characters with the answer; a longer
    # message would only fail once the person had waited for it.
    env = {"CHAT_DEBUG": "1"}
    assert load_config({**env, "CHAT_PROVIDER": "local"}).max_message_chars == 8000
    assert load_config({**env, "CHAT_PROVIDER": "vertexai", "GOOGLE_CLOUD_PROJECT": "p"}).max_message_chars == 100_000
    assert load_config({**env, "CHAT_PROVIDER": "local", "CHAT_MAX_MESSAGE_CHARS": "20000"}).max_message_chars == 20000


def test_a_pasted_document_is_sent_again_with_the_next_question_to_gemini_not_to_the_small_offline_model():
    gemini = load_config({"GOOGLE_CLOUD_PROJECT": "p", "SECRET_KEY": "k" * 64})
    offline = load_config({"SECRET_KEY": "k" * 64})
    assert gemini.history_max_chars >= 2 * gemini.max_message_chars
    assert offline.history_max_chars == 24000 and offline.max_message_chars == 8000
