"""The sidebar as a person uses it in Chromium, at 1280 px and at 375 px:
conversations under date headings, an item's own menu (reached and used by
keyboard alone to rename; Pin moves it under "Pinned"; Delete), the
"writing…" marker while an answer streams, and a conversation written in
again moving up to Today."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.storage.models import Conversation, Message
from deploy.stack import gunicorn
from tests.end_to_end.conftest import send, watched_page
from tests.end_to_end.test_browser_library import owner_of

TIMEOUT_MS = 30000
SCREENS = {
    "1280px": {"viewport": {"width": 1280, "height": 900}},
    "375px": {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sidebar")
    # An answer long enough (40 pieces, 60 ms apart) to be seen being written.
    with gunicorn(folder, {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "60"}) as (base, _log, _process):
        yield base, f"sqlite:///{folder}/chat.sqlite3"


def store(database_url, owner_id, titled_at):
    engine = create_engine(database_url)
    with Session(engine) as db:
        for title, at in titled_at.items():
            conversation = Conversation(owner_id=owner_id, title=title, created_at=at, updated_at=at)
            conversation.messages = [Message(role="user", content=title, created_at=at)]
            db.add(conversation)
        db.commit()
    engine.dispose()


def open_list(page):
    """On a phone the list folds away behind "Conversations"."""
    if page.evaluate("innerWidth <= 700"):
        if page.locator("details.conversations[open]").count() == 0:
            page.locator("details.conversations > summary").click()


def headings(page):
    return page.locator("#conversation-list .conversation-group:not([hidden]) h2").all_inner_texts()


def item(page, title):
    # By CSS, not role: on a phone the folded list's links are hidden.
    return page.locator("#conversation-list .conversation-item").filter(
        has=page.locator("> a", has_text=re.compile(f"^{re.escape(title)}$")))


@pytest.mark.parametrize("screen", SCREENS)
def test_headings_pin_rename_by_keyboard_delete_and_the_writing_marker(browser, server, screen):
    base, database = server
    with watched_page(browser, base + "/", timezone_id="UTC", **SCREENS[screen]) as watched:
        page = watched.page
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        old = now - timedelta(days=45)
        store(database, owner_of(page), {"Yesterday's tides": now - timedelta(days=1), "Old tides": old})
        page.reload()
        open_list(page)
        month = old.strftime("%B %Y")
        assert headings(page) == ["Yesterday", month]

        # An answer being written says so in the list, and stops saying so when it ends.
        send(page, "Hello sidebar")
        marker = item(page, "Hello sidebar").locator(".writing")
        marker.wait_for(state="attached", timeout=TIMEOUT_MS)
        open_list(page)  # a phone folds the list away to send
        marker.wait_for(timeout=TIMEOUT_MS)
        assert marker.inner_text().startswith("writing…") and "An answer is being written" in marker.inner_text()
        assert headings(page) == ["Today", "Yesterday", month]
        marker.wait_for(state="detached", timeout=TIMEOUT_MS)
        page.wait_for_selector(".message.assistant:not(.outcome-streaming)", timeout=TIMEOUT_MS)

        # Written in again, a conversation moves up to Today; the heading it leaves empty goes.
        open_list(page)
        item(page, "Yesterday's tides").locator("> a").click()
        page.wait_for_url(re.compile(r"/c/"))
        send(page, "And tomorrow?")
        page.wait_for_selector("#transcript .message.assistant", timeout=TIMEOUT_MS)  # the stored one had none
        open_list(page)
        assert headings(page) == ["Today", month]
        titles = page.locator("#conversation-list .conversation-item > a").all_inner_texts()
        assert titles[:2] == ["Yesterday's tides", "Hello sidebar"]
        page.wait_for_selector("#transcript .message.assistant:not(.outcome-streaming)", timeout=TIMEOUT_MS)

        # Pin: the item moves to the top, under "Pinned".
        open_list(page)
        item(page, "Old tides").locator(".item-menu > summary").click()
        item(page, "Old tides").get_by_role("button", name="Pin", exact=True).click()
        page.wait_for_load_state()
        open_list(page)
        assert headings(page) == ["Pinned", "Today"]
        titles = page.locator("#conversation-list .conversation-item > a").all_inner_texts()
        assert titles[0] == "Old tides"

        # Rename by keyboard alone: from the conversation's link, Tab to its menu, open it, type, Enter.
        item(page, "Yesterday's tides").get_by_role("link").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "⋯Actions for Yesterday's tides"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id").startswith("rename-")
        page.keyboard.press("Control+A")
        page.keyboard.type("Renamed by keys")
        page.keyboard.press("Enter")
        # The page was a conversation already (/c/...): wait for the renamed one's title, not for a URL.
        expect(page.locator("#chat-title")).to_have_text("Renamed by keys", timeout=TIMEOUT_MS)
        open_list(page)
        assert item(page, "Renamed by keys").count() == 1

        # Delete from the menu (after its confirmation).
        menu = item(page, "Hello sidebar").locator(".item-menu")
        menu.locator("> summary").click()
        menu.locator(".item-delete > summary").click()
        menu.get_by_role("button", name="Yes, delete it").click()
        page.wait_for_load_state()
        open_list(page)
        page.get_by_role("link", name="Renamed by keys", exact=True).wait_for(timeout=TIMEOUT_MS)
        assert item(page, "Hello sidebar").count() == 0
