"""Every conversation reachable from the sidebar: the newest 100, then
"Load more" pages (keyset: updated time, then id) with htmx or a plain link."""

import re

from tests.conftest import HTMX
from tests.web.library.conversation_rows import owner_of, store_conversations

LINK = re.compile(r'<li id="conv-([^"]+)"')
MORE = re.compile(r'<li class="load-more"><a href="(/conversations\?after=[^"]+)"')


def listed(body):
    return LINK.findall(body)


def more_link(body):
    found = MORE.search(body)
    return found and found.group(1).replace("&amp;", "&")


def follow_every_page(client, first_body, htmx):
    ids, body = listed(first_body), first_body
    while more_link(body):
        body = client.get(more_link(body), headers=HTMX if htmx else {}).get_data(as_text=True)
        ids += listed(body)
    return ids


def test_the_page_shows_the_newest_100_and_more_reaches_every_one(app, client):
    expected = store_conversations(app, owner_of(client), 230)
    page = client.get("/").get_data(as_text=True)
    assert listed(page) == expected[:100]
    assert follow_every_page(client, page, htmx=True) == expected


def test_without_javascript_the_plain_link_opens_each_page(app, client):
    expected = store_conversations(app, owner_of(client), 205)
    page = client.get("/").get_data(as_text=True)
    second = client.get(more_link(page)).get_data(as_text=True)
    assert "<html" in second and "Back to the chat" in second
    assert follow_every_page(client, page, htmx=False) == expected


def test_conversations_updated_at_one_instant_are_neither_skipped_nor_repeated(app, client):
    expected = store_conversations(app, owner_of(client), 150, same_time=True)
    assert follow_every_page(client, client.get("/").get_data(as_text=True), htmx=True) == expected


def test_no_more_link_when_everything_is_shown(app, client):
    store_conversations(app, owner_of(client), 100)
    assert more_link(client.get("/").get_data(as_text=True)) is None


def test_pages_hold_only_the_owners_conversations(app):
    alice, bob = app.test_client(), app.test_client()
    store_conversations(app, owner_of(alice), 120)
    bob_ids = store_conversations(app, owner_of(bob), 3)
    assert listed(bob.get("/").get_data(as_text=True)) == bob_ids
    alice_page = alice.get("/").get_data(as_text=True)
    # Bob following Alice's "more" link sees only his own.
    assert listed(bob.get(more_link(alice_page), headers=HTMX).get_data(as_text=True)) == bob_ids


def test_a_broken_cursor_is_a_clear_400(client):
    response = client.get("/conversations?after=not-a-cursor")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
