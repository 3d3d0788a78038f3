"""API keys where people sign in: `key=email` ties a key's conversations to a
person's page; plain keys stay the operator's; no keys, no open API."""

import pytest

from app.auth.api_keys import split_key_entry
from tests.auth.conftest import sign_in
from tests.conftest import api_client

KEYS = ("operator-key", "alice-key=Alice@Example.com")


@pytest.mark.parametrize("entry, split", [
    ("plain-key", ("plain-key", None)),
    ("k=alice@example.com", ("k", "alice@example.com")),
    ("base64+key==", ("base64+key==", None)),
    ("base64+key===bob@example.org", ("base64+key==", "bob@example.org")),
    ("a=b", ("a=b", None)),
])
def test_key_entries(entry, split):
    assert split_key_entry(entry) == split


def test_a_key_tied_to_a_person_puts_its_conversations_on_their_page(oidc_app, provider):
    app = oidc_app(api_keys=KEYS)
    program = api_client(app, "alice-key")
    refused = program.post("/api/chat", json={"message": "hi", "conversation_id": "new"})
    assert refused.status_code == 403 and "has not signed in" in refused.json["error"]

    browser = app.test_client()
    sign_in(browser, provider, "alice@example.com")
    started = program.post("/api/chat", json={"message": "Summarise the logs", "conversation_id": "new"})
    assert started.status_code == 200
    conversation_id = started.json["conversation_id"]
    assert "Summarise the logs" in browser.get("/").get_data(as_text=True)
    assert browser.get(f"/c/{conversation_id}").status_code == 200
    # and the page's conversations are the program's to continue
    page_started = browser.post("/messages", data={"message": "From the page"}).location.split("#")[0]
    page_conversation = page_started.rsplit("/", 1)[1]
    more = program.post("/api/chat", json={"message": "more", "conversation_id": page_conversation})
    assert more.status_code == 200


def test_a_plain_key_stays_the_operators(oidc_app, provider):
    app = oidc_app(api_keys=KEYS)
    browser = app.test_client()
    sign_in(browser, provider, "alice@example.com")
    started = api_client(app, "operator-key").post("/api/chat", json={"message": "Nightly job", "conversation_id": "new"})
    assert started.status_code == 200
    assert "Nightly job" not in browser.get("/").get_data(as_text=True)
    assert browser.get(f"/c/{started.json['conversation_id']}").status_code == 404
    assert api_client(app, "wrong-key").post("/api/chat", json={"message": "x"}).status_code == 401


def test_where_people_sign_in_an_api_without_keys_is_closed(oidc_app):
    client = oidc_app().test_client()
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 403
    assert "CHAT_API_KEYS" in response.json["error"]
