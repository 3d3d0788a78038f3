"""Malformed input gets a clear 400 (JSON on the API) and stores nothing."""

import json

import pytest
from sqlalchemy import func, select

from app.storage.engine import session_for
from app.web.attachment_input import body_limit
from app.storage.models import Message
from tests.conftest import API_KEY, HTMX, api_client

DEEP = "[" * 100_000 + "]" * 100_000
LONE_SURROGATE = '{"message": "hi \\ud800 there"}'


def stored_messages(app):
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(Message))


@pytest.mark.parametrize("body", [
    '{"message": 5}',
    '{"message": ["a"]}',
    '{"message": {"text": "a"}}',
    '["a"]',
    DEEP,
    '{"message": "hi", "history": ' + DEEP + "}",
    LONE_SURROGATE,
    '{"message": "hi", "history": [{"role": "user", "content": "\\udfff"}]}',
    '{"message": "hi", "conversation_id": 7}',
    "{not json",
])
@pytest.mark.parametrize("route", ["/api/chat", "/api/chat/stream"])
def test_the_api_answers_malformed_json_with_a_clear_400(make_app, route, body):
    app = make_app(api_keys=(API_KEY,))
    response = api_client(app).post(route, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.is_json and response.json["error"]
    assert stored_messages(app) == 0


@pytest.mark.parametrize("route", ["/api/chat", "/api/chat/stream"])
def test_a_body_that_is_not_utf8_is_a_400_not_replacement_characters(make_app, route):
    app = make_app(api_keys=(API_KEY,))
    body = b'{"message": "caf\xe9 \xff", "conversation_id": "new"}'  # Latin-1, not UTF-8
    response = api_client(app).post(route, data=body, content_type="application/json")
    assert response.status_code == 400 and "UTF-8" in response.json["error"]
    assert stored_messages(app) == 0


def test_a_stored_conversation_refuses_a_lone_surrogate_before_saving(make_app):
    app = make_app(api_keys=(API_KEY,))
    body = '{"message": "\\ud83d", "conversation_id": "new"}'
    response = api_client(app).post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 400 and "Unicode" in response.json["error"]
    assert stored_messages(app) == 0


def test_form_history_that_nests_too_deep_is_a_400(client):
    response = client.post("/api/chat", data={"message": "hi", "history": DEEP})
    assert response.status_code == 400 and response.is_json


@pytest.mark.parametrize("url", [
    "/answers/99999999999999999999999/stop",
    "/answers/99999999999999999999999/events",
    "/answers/99999999999999999999999/progressive",
])
def test_an_answer_id_too_big_for_the_database_is_a_404(client, url):
    client.get("/")
    response = client.post(url) if url.endswith("stop") else client.get(url)
    assert response.status_code == 404


def test_an_api_answer_id_too_big_is_a_json_404(make_app):
    response = api_client(make_app(api_keys=(API_KEY,))).get("/api/answers/99999999999999999999999/stream")
    assert response.status_code == 404 and response.is_json


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_app):
    # The routes that take files take bodies as large as their files may be
    # together (app/web/attachment_input.py); small limits keep this test light.
    app = make_app(attachments_per_message=1, attachment_max_mb=1)
    over = body_limit(app.config["CHAT"]) + 1024
    huge = json.dumps({"message": "x" * over})
    response = app.test_client().post("/api/chat", data=huge, content_type="application/json")
    assert response.status_code == 413 and response.is_json and "too much to send" in response.json["error"]
    page = app.test_client()
    page.get("/")
    refused = page.post("/messages", headers=HTMX, data={"message": "x" * over})
    assert refused.status_code == 413 and b"composer-error" in refused.data and b"too much to send" in refused.data
    assert stored_messages(app) == 0


def test_unknown_pages_get_the_apps_own_page_with_a_way_back(client):
    response = client.get("/c/no-such-conversation")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'href="/"' in page and "chat.css" in page
    assert client.get("/no/such/page").status_code == 404
