"""Sharing a conversation as a person does it in Chromium: open Share, make
a link, copy it with its button; another browser that has never been here
(on a phone) opens it and reads the transcript as it was, rendered, with no
composer and without a cookie; the owner stops sharing, and the link is a 404."""

import re

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import ARTIFACTS, send, watched_page

TIMEOUT_MS = 30000
# The fake model answers with the question, so the answer shows what it renders.
QUESTION = """Share this: **bold**, a formula $\\frac{a}{b}$ and code:

```python
def greet(name):
    return "hello " + name
```"""
PHONE = {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("share")
    with gunicorn(folder, {"CHAT_FAKE_CHUNKS": "3", "CHAT_FAKE_CHUNK_MS": "5"}) as (base, _log, _process):
        yield base


def answered(page, count):
    page.wait_for_function(
        "n => document.querySelectorAll('.message.assistant').length === n"
        " && !document.querySelector('.message.outcome-streaming')", arg=count, timeout=TIMEOUT_MS)


def test_share_copy_open_elsewhere_then_stop_sharing(browser, server):
    owner_options = {"viewport": {"width": 1280, "height": 900}, "permissions": ["clipboard-read", "clipboard-write"]}
    with watched_page(browser, server + "/", **owner_options) as owner:
        page = owner.page
        send(page, QUESTION)
        answered(page, 1)

        page.get_by_text("Share", exact=True).click()
        assert page.get_by_label("Include images and files").is_checked() is False
        assert page.get_by_label("Show my name").count() == 0  # nobody is signed in: no name to show
        page.get_by_role("button", name="Make a link").click()
        # The conversation again, its Share panel open on the new link.
        copy = page.locator(".share-link .copy-button")
        copy.wait_for(timeout=TIMEOUT_MS)
        assert copy.inner_text() == "Copy link"
        copy.click()
        page.wait_for_function("() => navigator.clipboard.readText().then(t => t.includes('/s/'))", timeout=10000)
        link = page.evaluate("() => navigator.clipboard.readText()")
        assert re.fullmatch(re.escape(server) + r"/s/[A-Za-z0-9_-]{43}", link), link
        assert copy.inner_text() == "Copied"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "share-panel-1280.png"), full_page=True)

        # What the owner writes after sharing is not in the link.
        send(page, "A later question, not shared")
        answered(page, 2)

        with watched_page(browser, link, **PHONE) as visitor:
            shared = visitor.page
            shared.locator(".message.assistant .markdown pre").wait_for()
            transcript = shared.locator("#transcript")
            assert "Share this:" in transcript.inner_text()
            assert "A later question" not in transcript.inner_text()
            assert transcript.locator(".message").count() == 2
            assert transcript.locator(".markdown strong").first.inner_text() == "bold"
            assert transcript.locator(".markdown math").count() == 1
            assert shared.locator("#composer, textarea, nav, .conversation-actions").count() == 0
            assert shared.locator('meta[name="robots"]').get_attribute("content") == "noindex"
            assert shared.context.cookies() == []  # a visitor gets no session
            # Nothing wider than the phone.
            assert shared.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            shared.screenshot(path=str(ARTIFACTS / "shared-conversation-375.png"), full_page=True)

        # The panel is still open where the link was made.
        assert page.locator("details.share summary").inner_text() == "Share · shared"
        page.get_by_role("button", name="Stop sharing").click()
        page.get_by_text("Sharing stopped").wait_for(timeout=TIMEOUT_MS)
        assert page.get_by_role("button", name="Copy link").count() == 0

    context = browser.new_context(**PHONE)
    try:
        response = context.new_page().goto(link)
        assert response.status == 404
        assert response.headers["x-robots-tag"] == "noindex"
    finally:
        context.close()


def fits(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_list_of_links_stops_one(browser, server):
    with watched_page(browser, server + "/", **PHONE, color_scheme="dark") as owner:
        page = owner.page
        send(page, "Listed conversation")
        answered(page, 1)
        page.get_by_text("Share", exact=True).click()
        page.get_by_label("Include images and files").check()
        page.get_by_role("button", name="Make a link").click()
        link = page.locator("input.share-url").input_value()
        assert fits(page), "the open Share panel is wider than the phone"
        page.locator(".chat-header").screenshot(path=str(ARTIFACTS / "share-panel-375-dark.png"))
        page.get_by_text("Conversations", exact=True).click()  # the phone's list folds the link away
        page.get_by_role("link", name="Shared links").click()
        assert fits(page)
        item = page.locator(".share-list li")
        assert item.count() == 1
        assert "Listed conversation" in item.inner_text() and "with files" in item.inner_text()
        assert item.locator("input.share-url").input_value() == link
        item.get_by_role("button", name="Stop sharing").click()
        page.get_by_text("You share no conversations").wait_for(timeout=TIMEOUT_MS)
        assert page.request.get(link).status == 404
