"""A double click on Regenerate, or on Edit's Resend, in Chromium: the second
click is told an answer is already being written, and exactly one new answer
is written, on the page and in the database (two workers, so the two clicks
may land on different processes)."""

import sqlite3

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import send, watched_page

SLOW = {"CHAT_FAKE_CHUNKS": "30", "CHAT_FAKE_CHUNK_MS": "40", "GUNICORN_WORKERS": "2"}
TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("double-redo")
    with gunicorn(folder, SLOW) as (base, _log, _process):
        yield base, folder / "chat.sqlite3"


def wait_until_answered(page):
    page.wait_for_function(
        "() => document.querySelectorAll('.message.assistant').length === 1"
        " && !document.querySelector('.message.outcome-streaming')", timeout=TIMEOUT_MS)


def stored_answers(database):
    """Every stored answer as (id, when it was made): SQLite may give a new
    answer the id of the one it replaced."""
    with sqlite3.connect(database) as connection:
        return set(connection.execute("SELECT id, created_at FROM messages WHERE role = 'assistant'"))


@pytest.fixture
def answered(browser, server):
    """A page with one question answered, and the answers stored before."""
    base, database = server
    with watched_page(browser, base + "/") as watched:
        send(watched.page, "answer me twice?")
        wait_until_answered(watched.page)
        yield watched.page, database, stored_answers(database)
        # Chromium logs a refused request (the second click's 409) as an error; nothing else may be.
        watched.errors[:] = [error for error in watched.errors if "409" not in error]


def assert_one_new_answer(page, database, before):
    # The second click's request waits for the first's (htmx queues it), and is refused.
    page.locator("#composer-error").get_by_text("An answer is already being written for this question").wait_for(
        timeout=TIMEOUT_MS)
    wait_until_answered(page)
    after = stored_answers(database)
    assert (len(after - before), len(before - after)) == (1, 1), f"one new answer in place of the old: {sorted(after)}"
    page.reload()
    assert page.locator(".message.assistant").count() == 1


def test_a_double_click_on_regenerate_writes_one_new_answer(answered):
    page, database, before = answered
    page.locator(".message.assistant").get_by_role("button", name="Regenerate").dblclick()
    assert_one_new_answer(page, database, before)


def test_a_double_click_on_edits_resend_writes_one_new_answer(answered):
    page, database, before = answered
    page.locator("details.edit summary").click()
    page.locator("details.edit textarea").fill("answer me once")
    page.locator("details.edit").get_by_role("button", name="Resend").dblclick()
    assert_one_new_answer(page, database, before)
    assert page.locator(".message.user .text").all_inner_texts() == ["answer me once"]


def test_edit_is_still_offered_after_regenerate(answered):
    """Regenerate's new bubbles took the question's Edit away until a reload."""
    page, _database, _before = answered
    page.get_by_role("button", name="Regenerate").click()
    page.wait_for_selector(".message.assistant.outcome-streaming", timeout=TIMEOUT_MS)
    wait_until_answered(page)
    edit = page.locator(".message.user details.edit")
    assert edit.count() == 1 and edit.is_visible()
    edit.locator("summary").click()
    page.locator(".message.user details.edit textarea").fill("answer me once?")
    page.locator(".message.user details.edit").get_by_role("button", name="Resend").click()
    page.wait_for_selector(".message.user .text >> text=answer me once?", timeout=TIMEOUT_MS)
    wait_until_answered(page)
