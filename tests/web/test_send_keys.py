"""A composed message is saved once however often it is sent (a double
click, Enter twice, a retried request): its composer key (send_key)."""

import re

from tests.conftest import HTMX

KEY = "k" * 22


def count_questions(client, conversation_id):
    return client.get(f"/c/{conversation_id}").get_data(as_text=True).count('class="message user')


def test_the_same_key_twice_saves_one_message_and_the_copy_swaps_nothing(client):
    first = client.post("/messages", headers=HTMX, data={"message": "hello", "send_key": KEY})
    assert first.status_code == 200
    conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    again = client.post("/messages", headers=HTMX, data={"message": "hello", "send_key": KEY})
    assert again.status_code == 204 and again.data == b""
    assert count_questions(client, conversation_id) == 1
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="conversation-link') <= 1 or page.count(conversation_id) == 1


def test_without_javascript_a_copy_goes_to_the_conversation(client):
    first = client.post("/messages", data={"message": "hello", "send_key": KEY})
    again = client.post("/messages", data={"message": "hello", "send_key": KEY})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"].split("#")[0] == first.headers["Location"].split("#")[0]


def test_each_send_gets_a_new_key_and_a_malformed_one_is_ignored(client):
    page = client.get("/").get_data(as_text=True)
    key = re.search(r'name="send_key" value="([^"]+)"', page).group(1)
    response = client.post("/messages", headers=HTMX, data={"message": "one", "send_key": key}).get_data(as_text=True)
    fresh = re.search(r'name="send_key" value="([^"]+)"', response).group(1)
    assert fresh != key
    for bad in ("short", "x" * 65, "has spaces in it!!"):
        assert client.post("/messages", headers=HTMX, data={"message": "two", "send_key": bad}).status_code == 200
        assert client.post("/messages", headers=HTMX, data={"message": "two", "send_key": bad}).status_code == 200


def test_another_owners_key_does_not_reveal_their_conversation(make_app):
    app = make_app()
    alice, mallory = app.test_client(), app.test_client()
    alice.post("/messages", headers=HTMX, data={"message": "secret", "send_key": KEY})
    response = mallory.post("/messages", data={"message": "x", "send_key": KEY})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
