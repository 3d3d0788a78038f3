"""The page on a phone (375 px, touch) and in a narrow window, in a real
headless Chromium against a real gunicorn with the fake provider (which
echoes the message, so a message is also the answer's markdown).

What a person on a phone found: an answer with a code block or a table made
the page wider than the screen (Send pushed off it), the conversation list
could not be opened at all, and the buttons were too small to tap. These
tests hold the layout to: nothing wider than the viewport, a "Conversations"
disclosure that opens the list (by tap, by keyboard, and without
JavaScript), and controls of at least 44x44 px on a touch screen and 24x24 px
with a mouse. They also save screenshots in test-artifacts/ (git-ignored);
the copies in docs/ that README.md shows are taken from there by hand when
the layout changes, so a test run leaves the tree clean.
"""

import re
from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from deploy.stack import gunicorn
from tests.end_to_end.conftest import ANSWER, ARTIFACTS, watched_page

PHONE_WIDTH, PHONE_HEIGHT = 375, 740
PHONE = {"viewport": {"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}
NARROW = {"viewport": {"width": 600, "height": 800}}
DESKTOP = {"viewport": {"width": 1200, "height": 900}}

CODE_LINE = "wide = '" + "a" * 191 + "'"
LONG_WORD = "https://example.com/" + "b" * 130
TABLE = "\n".join([
    "| " + " | ".join(f"Column {n} heading" for n in range(1, 9)) + " |",
    "|" + "---|" * 8,
    "| " + " | ".join(f"value number {n}" for n in range(1, 9)) + " |",
    "| " + " | ".join(f"second row {n}" for n in range(1, 9)) + " |",
])
WIDE_ANSWER = f"""Wide things, one after another.

```python
{CODE_LINE}
```

{TABLE}

A long address: {LONG_WORD} and the end."""

# Every control a person taps: the answer's actions, the composer, the chat's
# header (Rename, Delete and what they open), the bar above it on a narrow
# screen, a code block's Copy button, and Edit on the last question. Links
# inside an answer's text are inline and exempt from target sizes.
CONTROLS = ", ".join([
    ".actions :is(button, a, summary, input)",
    "#composer :is(button, textarea)",
    ".chat-header :is(button, a, summary, input:not([type=hidden]))",
    ".sidebar :is(.new-chat, summary, li a)",
    ".code-block button",
    "details.edit :is(summary, button, textarea)",
])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # About two seconds an answer: long enough to find Stop while it streams.
    env = {"CHAT_FAKE_CHUNKS": "40", "CHAT_FAKE_CHUNK_MS": "50"}
    with gunicorn(tmp_path_factory.mktemp("phone"), env) as (base, _log, _process):
        yield base


@pytest.fixture
def new_page(browser, server):
    """Opens a page of the app in a new browser context with the given options."""
    with ExitStack() as pages:
        yield lambda path="/", **options: pages.enter_context(watched_page(browser, server + path, **options))


def ask(page, text, tap=False):
    """Sends `text` (by tapping Send, or with Enter) and waits until its answer is complete."""
    finished = page.locator(".message.assistant.outcome-complete").count()
    page.fill("#message", text)
    if tap:
        page.get_by_role("button", name="Send", exact=True).tap()
    else:
        page.locator("#message").press("Enter")
    page.locator(".message.assistant.outcome-complete").nth(finished).wait_for()


def start_two_conversations(page, tap=False):
    """An older and a newer conversation, with New chat between; returns their URLs."""
    ask(page, "Older conversation about apples", tap)
    page.wait_for_url(re.compile(r"/c/[\w-]+$"))
    older = page.url
    new_chat = page.locator("a.new-chat")
    new_chat.tap() if tap else new_chat.click()
    page.wait_for_url(re.compile(r"/$"))
    ask(page, "Newer conversation about pears", tap)
    page.wait_for_url(re.compile(r"/c/[\w-]+$"))
    assert page.url != older
    return older, page.url


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def screenshot(page, name):
    """The whole page, taken in a window as tall as the page, so that the
    composer (sticky at the bottom of the window) sits at its end and covers
    nothing. (Not full_page=True: Chromium then draws the page without the
    phone's touch emulation, with a mouse's smaller controls.)"""
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": page.evaluate("document.documentElement.scrollHeight")})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(viewport)


def inside_viewport(box, width, height):
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def undersized(page, minimum):
    """The visible controls smaller than minimum x minimum px, with their sizes."""
    small = []
    for control in page.locator(CONTROLS).all():
        if not control.is_visible():
            continue
        box = control.bounding_box()
        if box["width"] < minimum or box["height"] < minimum:
            label = control.get_attribute("aria-label") or control.inner_text() or control.evaluate("e => e.outerHTML")
            small.append(f"{label.strip()[:30]!r}: {box['width']:.0f}x{box['height']:.0f}")
    return small


def visible_controls(page):
    return sum(control.is_visible() for control in page.locator(CONTROLS).all())


def accessibility_nodes(page, role):
    """The nodes of `role` in Chromium's own accessibility tree (what a screen
    reader is given): {name: expanded}."""
    session = page.context.new_cdp_session(page)
    found = {}
    for node in session.send("Accessibility.getFullAXTree")["nodes"]:
        if not node.get("ignored") and node["role"]["value"] == role:
            properties = {p["name"]: p["value"]["value"] for p in node.get("properties", [])}
            found[node["name"]["value"]] = properties.get("expanded")
    session.detach()
    return found


def disclosures(page):
    return accessibility_nodes(page, "DisclosureTriangle")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_a_wide_answer_stays_inside_the_screen(new_page, scheme):
    watched = new_page(**PHONE, color_scheme=scheme)
    page = watched.page
    ask(page, WIDE_ANSWER, tap=True)
    answer = page.locator(".message.assistant").last
    assert answer.locator("pre").count() == 1 and answer.locator("table th").count() == 8
    assert LONG_WORD in answer.inner_text()

    assert scroll_width(page) <= PHONE_WIDTH, "the page is never wider than the phone"
    assert page.evaluate("() => { window.scrollTo(400, window.scrollY); return window.scrollX; }") == 0, "no sideways scrolling"
    for message in page.locator(".message").all():
        box = message.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, "every bubble fits across"
    for control in (page.get_by_role("button", name="Send", exact=True), page.locator("#message")):
        assert inside_viewport(control.bounding_box(), PHONE_WIDTH, PHONE_HEIGHT), "the composer fits on the screen"
    # The code and the table scroll sideways inside the bubble instead.
    bubble = answer.bounding_box()
    for wide in (answer.locator("pre"), answer.locator("table")):
        assert wide.evaluate("e => e.scrollWidth > e.clientWidth"), "it scrolls inside itself"
        box = wide.bounding_box()
        assert box["x"] >= bubble["x"] and box["x"] + box["width"] <= bubble["x"] + bubble["width"]
    # The long word wraps inside its paragraph.
    paragraph = answer.locator("p", has_text="A long address").bounding_box()
    assert paragraph["x"] + paragraph["width"] <= bubble["x"] + bubble["width"]
    assert paragraph["height"] > 3 * 20, "the address wraps onto several lines"

    screenshot(page, f"phone-{scheme}.png")
    assert watched.errors == []


def test_phone_the_conversation_list_opens_with_a_tap(new_page):
    watched = new_page(**PHONE)
    page = watched.page
    older, newer = start_two_conversations(page, tap=True)
    # the bar above the chat is only as tall as its buttons: no empty band
    page.evaluate("() => window.scrollTo(0, 0)")
    bar = page.locator("nav.sidebar").bounding_box()
    assert bar["y"] == 0 and bar["height"] <= 8 + 44 + 8 + 1
    assert page.locator("#conversation-list").count() == 1
    toggle = page.locator("nav.sidebar .conversations > summary")
    expect(toggle).to_have_accessible_name("Conversations")
    assert disclosures(page)["Conversations"] is False, "a disclosure button, named and folded"
    links = page.locator("#conversation-list a")
    expect(links.first).to_be_hidden()

    toggle.tap()
    assert disclosures(page)["Conversations"] is True
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_be_visible()
    expect(links.nth(1)).to_be_visible()
    assert links.nth(0).inner_text() == "Newer conversation about pears"
    assert links.nth(1).inner_text() == "Older conversation about apples"
    panel = page.locator("#conversation-list").bounding_box()
    assert inside_viewport(panel, PHONE_WIDTH, PHONE_HEIGHT), "the open list is on the screen"
    # it lies over the chat: nothing else covers the link a finger lands on
    older_link = links.nth(1)
    box = older_link.bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.textContent",
                        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit == "Older conversation about apples"
    assert scroll_width(page) <= PHONE_WIDTH
    expect(older_link).to_be_visible()
    screenshot(page, "phone-conversations.png")

    older_link.tap()
    page.wait_for_url(older)
    page.locator(".message.assistant.outcome-complete").wait_for()
    assert "Older conversation about apples" in page.locator("#transcript").inner_text()
    expect(page.locator("#conversation-list a[aria-current=page]")).to_have_text("Older conversation about apples")
    expect(page.locator("#conversation-list a").first).to_be_hidden()  # a new page starts with the list folded
    assert watched.errors == []


def test_phone_the_conversation_list_opens_without_javascript(new_page):
    watched = new_page(**PHONE)
    older, _newer = start_two_conversations(watched.page, tap=True)
    state = watched.page.context.storage_state()
    without_js = new_page("/", **PHONE, java_script_enabled=False, storage_state=state)
    page = without_js.page
    page.locator("nav.sidebar .conversations > summary").tap()
    older_link = page.get_by_role("link", name="Older conversation about apples")
    expect(older_link).to_be_visible()
    older_link.tap()
    page.wait_for_url(older)
    assert "Older conversation about apples" in page.locator("#transcript").inner_text()


def test_narrow_window_the_list_opens_and_is_followed_by_keyboard_alone(new_page):
    watched = new_page(**NARROW)
    older, _newer = start_two_conversations(watched.page)
    page = watched.page
    page.goto(page.url.rsplit("/c/", 1)[0] + "/")
    toggle = page.locator("nav.sidebar .conversations > summary")
    links = page.locator("#conversation-list a")
    expect(toggle).to_be_visible()
    expect(links.first).to_be_hidden()

    def focused(locator):
        return locator.evaluate("e => e === document.activeElement")

    # The box has the focus (autofocus); go back from it to the toggle.
    for _ in range(15):
        if focused(toggle):
            break
        page.keyboard.press("Shift+Tab")
    assert focused(toggle), "the Conversations toggle is in the tab order"
    page.keyboard.press("Enter")
    expect(links.nth(1)).to_be_visible()
    page.keyboard.press("Space")
    expect(links.first).to_be_hidden()
    page.keyboard.press("Space")
    expect(links.nth(1)).to_be_visible()
    page.keyboard.press("Tab")
    assert focused(page.locator("#search-box")), "the opened list starts with its search"
    page.keyboard.press("Tab")
    assert focused(links.nth(0))
    page.keyboard.press("Tab")  # each conversation's own menu comes after it
    assert page.evaluate("document.activeElement.matches('#conversation-list .item-menu > summary')")
    page.keyboard.press("Tab")
    assert focused(links.nth(1)) and links.nth(1).inner_text() == "Older conversation about apples"
    page.keyboard.press("Enter")
    page.wait_for_url(older)
    assert "Older conversation about apples" in page.locator("#transcript").inner_text()
    assert watched.errors == []


@pytest.mark.parametrize("device, minimum", [(PHONE, 44), (DESKTOP, 24)], ids=["touch-44px", "mouse-24px"])
def test_every_control_is_big_enough_to_hit(new_page, device, minimum):
    watched = new_page(**device)
    page = watched.page
    page.fill("#message", ANSWER)
    if device is PHONE:
        page.get_by_role("button", name="Send", exact=True).tap()  # Enter makes a new line on a phone
    else:
        page.locator("#message").press("Enter")
    stop = page.locator(".stop-button")
    stop.wait_for()
    box = stop.bounding_box()
    assert box["width"] >= minimum and box["height"] >= minimum, f"Stop is {box['width']:.0f}x{box['height']:.0f}"
    page.locator(".message.assistant.outcome-complete").wait_for()
    # A whole page of the conversation: Rename and Delete in its header, Edit
    # on the question, Copy, Copy code and Regenerate on the answer.
    page.reload()
    page.locator(".message.assistant.outcome-complete .actions").wait_for()
    assert undersized(page, minimum) == []
    for summary in ("Rename", "Delete"):
        page.locator(".conversation-actions summary", has_text=summary).click()
    page.locator("details.edit summary").click()
    if device is PHONE:
        page.locator("nav.sidebar .conversations > summary").click()
    assert undersized(page, minimum) == []
    assert visible_controls(page) >= 14, "everything that should be measured was found"
    assert scroll_width(page) <= device["viewport"]["width"], "the opened forms fit across too"
    assert watched.errors == []


def test_wide_screen_shows_the_sidebar_as_before(new_page):
    watched = new_page(**DESKTOP)
    page = watched.page
    ask(page, WIDE_ANSWER)
    assert scroll_width(page) <= 1200
    page.reload()
    sidebar = page.locator("nav.sidebar").bounding_box()
    assert sidebar["x"] == 0 and sidebar["width"] == 256 and sidebar["height"] == 900, "a full-height column"
    expect(page.locator("nav.sidebar .conversations > summary")).to_be_hidden()
    link = page.get_by_role("link", name=re.compile("^Wide things, one after another"))
    expect(link).to_be_visible()
    assert link.get_attribute("aria-current") == "page"
    assert "Conversations" not in disclosures(page), "no toggle on a wide screen"
    assert any(name.startswith("Wide things") for name in accessibility_nodes(page, "link")), "a screen reader gets the list"
    link_box, new_chat = link.bounding_box(), page.locator("a.new-chat").bounding_box()
    assert link_box["y"] > new_chat["y"] + new_chat["height"], "the list under New chat, as before"
    # and the keyboard goes from New chat through the search to the list
    page.locator("a.new-chat").focus()
    page.keyboard.press("Tab")
    assert page.locator("#search-box").evaluate("e => e === document.activeElement")
    page.keyboard.press("Tab")
    assert link.evaluate("e => e === document.activeElement")
    assert watched.errors == []
