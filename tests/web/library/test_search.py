"""Search from the sidebar: the owner's conversations only, best first,
snippets escaped and marked, an index in step with every write, and no query
that the database's search syntax refuses (SQLite and PostgreSQL)."""

import re

import pytest

from app.storage.engine import session_for
from app.storage.models import Conversation, Message
from tests.conftest import HTMX
from tests.page_flow import post, read_all, send, subscribe


def search(client, query, htmx=True):
    response = client.get("/search", query_string={"q": query}, headers=HTMX if htmx else {})
    return response, response.get_data(as_text=True)


def result_links(body):
    return re.findall(r'<li><a href="(/c/[^"#]+)(?:#m-(\d+))?">', body)


def result_ids(body):
    return [link[0].removeprefix("/c/") for link in result_links(body)]


def test_finds_the_owners_conversation_by_a_word_of_its_answer_and_opens_at_that_message(client):
    found_id, _ = send(client, "Tell me about the zanzibar archipelago")
    send(client, "Something else entirely")
    response, body = search(client, "zanzibar")
    assert response.status_code == 200
    links = result_links(body)
    assert [link[0] for link in links] == [f"/c/{found_id}"]
    with session_for(client.application) as db:
        message = db.get(Message, int(links[0][1]))
    assert message.conversation_id == found_id and "zanzibar" in message.content.lower()
    assert "<mark>zanzibar</mark>" in body


def test_another_owners_conversations_never_appear(app):
    alice, bob = app.test_client(), app.test_client()
    send(alice, "Alice's secret quokka recipe")
    bob_id, _ = send(bob, "Bob's quokka notes")
    _response, body = search(bob, "quokka")
    assert result_ids(body) == [bob_id]
    assert "Alice" not in body
    _response, body = search(app.test_client(), "quokka")
    assert result_ids(body) == []


def test_every_word_must_match_and_the_last_matches_as_a_prefix_while_typing(client):
    both_id, _ = send(client, "kubernetes deployment rollout")
    send(client, "kubernetes only")
    assert result_ids(search(client, "kubernetes rollout")[1]) == [both_id]
    assert result_ids(search(client, "rollout kuber")[1]) == [both_id]
    assert len(result_ids(search(client, "kube")[1])) == 2


def test_best_first_a_title_match_counts_above_one_mention(client):
    mention_id, _ = send(client, "A long note that mentions pelicans once among many other words about birds")
    titled_id, _ = send(client, "Pelicans pelicans")
    with session_for(client.application) as db:
        db.get(Conversation, titled_id).title = "All about pelicans"
        db.commit()
    assert result_ids(search(client, "pelicans")[1]) == [titled_id, mention_id]


@pytest.mark.parametrize("query", [
    '"', "'", "a OR", "NEAR(", "*", "title:x", "^foo", "-bar", "x AND NOT y", "(((", "foo:*", "!&|", "\\",
    "\x00", "é" * 3, "日本語",
])
def test_no_query_is_a_syntax_error(client, query):
    send(client, "plain words here")
    response, body = search(client, query)
    assert response.status_code == 200, body
    assert "error" not in body.lower()


def test_a_query_over_the_limit_is_told_not_run(client):
    response, body = search(client, "word " * 60)
    assert response.status_code == 400
    assert "at most 200 characters" in body


def test_an_empty_query_shows_nothing(client):
    send(client, "something")
    response, body = search(client, "   ")
    assert response.status_code == 200 and result_ids(body) == [] and "No conversation" not in body


def test_snippets_escape_model_text_and_mark_only_the_words(client):
    attack = '<img src=x onerror=alert(1)> the <mark>lynx</mark> & <script>alert(2)</script> lynx'
    send(client, attack)
    _response, body = search(client, "lynx")
    assert "<img" not in body and "<script" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    # The model's own <mark> is text; only the word itself is marked by us.
    assert "&lt;mark&gt;<mark>lynx</mark>&lt;/mark&gt;" in body


def test_the_plain_form_without_javascript_gets_a_page_of_results(client):
    found_id, _ = send(client, "ocelot facts")
    response, body = search(client, "ocelot", htmx=False)
    assert response.status_code == 200 and "<html" in body and 'type="search"' in body
    assert result_ids(body) == [found_id]


def test_the_page_has_a_labelled_search_box(client):
    body = client.get("/").get_data(as_text=True)
    assert re.search(r'<label for="search-box">Search conversations</label>\s*<input id="search-box" type="search"', body)
    assert 'hx-get="/search"' in body and "delay:" in body


def test_the_index_follows_regenerate_edit_rename_and_delete(client):
    conversation_id, _ = send(client, "first question about narwhals")
    client.post(f"/c/{conversation_id}/rename", data={"title": "Zoo notes"})  # the title no longer says narwhals
    # Edit: the question and its answer are replaced.
    _c, _a, html = post(client, f"/c/{conversation_id}/edit", message="second question about walruses")
    read_all(subscribe(client, html))
    assert result_ids(search(client, "narwhals")[1]) == []
    assert result_ids(search(client, "walruses")[1]) == [conversation_id]
    # Regenerate: the answer is replaced by a new one, found once.
    _c, _a, html = post(client, f"/c/{conversation_id}/regenerate")
    read_all(subscribe(client, html))
    assert result_ids(search(client, "walruses")[1]) == [conversation_id]
    # Rename: the new title is found, the old one's words are not.
    client.post(f"/c/{conversation_id}/rename", data={"title": "Marine mammals"})
    assert result_ids(search(client, "marine")[1]) == [conversation_id]
    client.post(f"/c/{conversation_id}/rename", data={"title": "Sea creatures"})
    assert result_ids(search(client, "marine")[1]) == []
    # Delete: nothing of it is found.
    client.post(f"/c/{conversation_id}/delete")
    assert result_ids(search(client, "walruses")[1]) == []
    assert result_ids(search(client, "creatures")[1]) == []


def test_an_answer_is_found_once_it_has_ended(app, client):
    conversation_id, answer_id, html = post(client, "/messages", message="hello")
    with session_for(app) as db:
        db.get(Message, answer_id).content = "a partial capybara"  # as a checkpoint writes it
        db.commit()
    read_all(subscribe(client, html))  # the fake model echoes "hello"
    assert result_ids(search(client, "capybara")[1]) == []
    assert result_ids(search(client, "hello")[1]) == [conversation_id]


def test_words_in_very_many_messages_come_newest_first(app, client, monkeypatch):
    from app.storage import search as search_module

    monkeypatch.setattr(search_module, "RANKED_MATCHES", 3)  # so a handful of messages counts as very many
    older = [send(client, f"common topic number {n}")[0] for n in range(4)]
    mentioned_most = send(client, "common common common common topic")[0]
    newest = send(client, "common again")[0]
    ids = result_ids(search(client, "common")[1])
    assert ids[:2] == [newest, mentioned_most] and sorted(ids[2:]) == sorted(older)
    assert ids[2:] == older[::-1]


def test_a_snippet_that_only_repeats_the_title_is_left_out(client):
    send(client, "Gecko care")
    _response, body = search(client, "gecko")
    # The question is the title, and the fake model echoes it.
    assert body.count("<mark>Gecko</mark>") == 1 and 'class="search-snippet"' not in body


def test_with_htmx_the_live_region_hears_the_count_not_the_list(client):
    send(client, "emu facts")
    send(client, "emu eggs")
    _response, body = search(client, "emu")
    assert '<hx-partial hx-target="#announcer" hx-swap="innerHTML">2 conversations found.</hx-partial>' in body
    _response, body = search(client, "zebra")
    assert '<hx-partial hx-target="#announcer" hx-swap="innerHTML">No conversations found.</hx-partial>' in body
    assert "hx-partial" not in search(client, "emu", htmx=False)[1]
