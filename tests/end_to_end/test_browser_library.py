"""Finding and keeping conversations, as a person does it in Chromium: type
in the sidebar's search box and open a result (with the keyboard) at the
message found, load more conversations past the first 100, and download
both exports and read them."""

import json
import os
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.storage.models import Conversation, Message
from deploy.stack import gunicorn
from tests.end_to_end.conftest import send, watched_page

TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    with gunicorn(folder, {"CHAT_FAKE_CHUNKS": "3", "CHAT_FAKE_CHUNK_MS": "5"}) as (base, _log, _process):
        yield base, f"sqlite:///{folder}/chat.sqlite3"


@pytest.fixture
def page(browser, server):
    base, _database = server
    with watched_page(browser, base + "/", accept_downloads=True) as watched:
        yield watched.page


def owner_of(page):
    """The owner id in the page's session cookie (signed with the server's SECRET_KEY)."""
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "session")
    signer = Flask(__name__)
    signer.secret_key = os.environ["SECRET_KEY"]
    return SecureCookieSessionInterface().get_signing_serializer(signer).loads(cookie)["owner"]


def store_conversations(database_url, owner_id, count):
    """`count` older conversations of `owner_id`, written as the app would; titles newest first."""
    start = datetime(2025, 1, 1)
    engine = create_engine(database_url)
    with Session(engine) as db:
        for n in range(count):
            at = start + timedelta(minutes=n)
            conversation = Conversation(owner_id=owner_id, title=f"Stored {n:03d}", created_at=at, updated_at=at)
            conversation.messages = [Message(role="user", content=f"question {n}", created_at=at)]
            db.add(conversation)
        db.commit()
    engine.dispose()
    return [f"Stored {n:03d}" for n in reversed(range(count))]


def answered(page, count):
    page.wait_for_function(
        "n => document.querySelectorAll('.message.assistant').length === n"
        " && !document.querySelector('.message.outcome-streaming')", arg=count, timeout=TIMEOUT_MS)


def test_type_a_word_move_to_the_result_with_the_keyboard_and_open_it_at_the_message(page):
    send(page, "Tell me about the okapi")
    answered(page, 1)
    for n in range(12):  # a long conversation: the found message is far from its end
        send(page, f"Filler question number {n} " + "words " * 40)
        answered(page, n + 2)
    page.goto(page.url.split("/c/")[0] + "/")
    page.get_by_label("Search conversations").press_sequentially("oka", delay=60)
    hit = page.locator("#search-results .search-hits a")
    hit.first.wait_for(timeout=TIMEOUT_MS)
    assert hit.count() == 1
    # A screen reader hears the count, once the results are in.
    page.wait_for_function("() => document.getElementById('announcer').textContent === '1 conversation found.'")
    assert hit.first.locator("mark").first.inner_text().lower() == "okapi"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.search-hits') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url("**/c/*#m-*", timeout=TIMEOUT_MS)
    target = page.locator(".message:target")
    assert "okapi" in target.inner_text().lower()
    # Opened at that message, not at the conversation's end.
    assert page.evaluate("""() => { const r = document.querySelector('.message:target').getBoundingClientRect();
                                    return r.bottom > 0 && r.top < innerHeight; }""")
    assert page.evaluate("scrollY + innerHeight < document.body.scrollHeight - 200")


def test_load_more_reaches_the_conversations_past_the_first_hundred(page, server):
    _base, database = server
    titles = store_conversations(database, owner_of(page), 130)
    page.reload()
    listed = page.locator("#conversation-list li:not(.load-more) a")
    assert listed.count() == 100
    more = page.get_by_role("link", name="Load more conversations")
    more.click()
    page.wait_for_function("() => document.querySelectorAll('#conversation-list li.conversation-item').length === 130")
    assert listed.all_inner_texts() == titles
    assert page.get_by_role("link", name="Load more conversations").count() == 0
    # The keyboard goes on at the first conversation it brought.
    assert page.evaluate("document.activeElement.textContent") == titles[100]
    listed.last.click()
    page.wait_for_url("**/c/*")
    assert page.locator("#chat-title").inner_text() == titles[-1]


def test_download_both_exports_and_read_them(page, tmp_path):
    send(page, "Explain the **platypus**")
    answered(page, 1)
    with page.expect_download() as markdown:
        page.get_by_role("link", name="Export (Markdown)").click()
    text = open(markdown.value.path(), encoding="utf-8").read()
    assert markdown.value.suggested_filename == "Explain the platypus.md"
    assert text.startswith("# Explain the platypus\n")
    assert "## Question\n\nExplain the **platypus**" in text and "## Answer" in text
    with page.expect_download() as everything:
        page.get_by_role("link", name="Export all conversations (JSON)").click()
    document = json.load(open(everything.value.path(), encoding="utf-8"))
    assert document["format"] == "chat-export"
    assert [c["title"] for c in document["conversations"]][0] == "Explain the platypus"
    assert document["conversations"][0]["messages"][0]["content"] == "Explain the **platypus**"


def test_escape_in_the_search_box_empties_it_and_stops_no_answer(browser, tmp_path):
    with gunicorn(tmp_path, {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "100"}) as (base, _log, _process):
        with watched_page(browser, base + "/") as watched:
            page = watched.page
            send(page, "A slow okapi answer")
            page.locator(".message.assistant.outcome-streaming").wait_for(timeout=TIMEOUT_MS)
            box = page.get_by_label("Search conversations")
            box.fill("okapi")
            page.locator("#search-results .search-hits a").first.wait_for(timeout=TIMEOUT_MS)
            box.press("Escape")
            assert box.input_value() == "" and page.locator("#search-results .search-hits").count() == 0
            answered(page, 1)
            assert "outcome-complete" in page.locator(".message.assistant").get_attribute("class")
