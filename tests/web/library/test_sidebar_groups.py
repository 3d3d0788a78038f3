"""The sidebar's date groups (Pinned, Today, Yesterday, Previous 7 days,
Previous 30 days, then months) at fixed clocks, in the person's time zone,
across "Load more" pages; pinning and unpinning, for the owner only; the
"writing…" marker."""

import re
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from app.storage.engine import session_for
from app.storage.models import Conversation, Message
from app.web.library import date_groups, sidebar
from tests.conftest import HTMX
from tests.web.library.conversation_rows import owner_of

ENTRY = re.compile(r'<li class="conversation-group"(?: id="group-today")?><h2>([^<]+)</h2>|<li id="conv-[^"]+"[^>]*><a href="/c/[^"]+"[^>]*>([^<]+)</a>')
MORE = re.compile(r'<li class="load-more"><a href="(/conversations\?after=[^"]+)"')
NOW = datetime(2026, 12, 7, 10, 30)  # naive UTC, as stored


def entries(body):
    """The list as read: headings as "# Heading", conversations by title."""
    return [f"# {heading}" if heading else title for heading, title in ENTRY.findall(body)]


def store(app, owner_id, titled_at, outcome="complete"):
    """Conversations `title: updated_at`; their ids by title."""
    ids = {}
    with session_for(app) as db:
        for title, at in titled_at.items():
            conversation = Conversation(owner_id=owner_id, title=title, created_at=at, updated_at=at)
            conversation.messages = [Message(role="user", content=title, created_at=at),
                                     Message(role="assistant", content="", created_at=at, outcome=outcome)]
            db.add(conversation)
            db.flush()
            ids[title] = conversation.id
        db.commit()
    return ids


def test_each_group_starts_at_its_boundary(app, client, monkeypatch):
    monkeypatch.setattr(sidebar, "utcnow", lambda: NOW)
    day = timedelta(days=1)
    store(app, owner_of(client), {
        "a future clock": NOW + timedelta(minutes=5), "this morning": datetime(2026, 12, 7, 0, 0),
        "last night": datetime(2026, 12, 6, 23, 59), "two days ago": NOW - 2 * day,
        "a week ago": datetime(2026, 11, 30, 0, 0), "eight days ago": datetime(2026, 11, 29, 23, 59),
        "thirty days ago": datetime(2026, 11, 7, 0, 0), "thirty-one days ago": datetime(2026, 11, 6, 23, 59),
        "in October": datetime(2026, 10, 1), "a year before": datetime(2025, 12, 31),
    })
    assert entries(client.get("/").get_data(as_text=True)) == [
        "# Today", "a future clock", "this morning", "# Yesterday", "last night",
        "# Previous 7 days", "two days ago", "a week ago", "# Previous 30 days", "eight days ago", "thirty days ago",
        "# November 2026", "thirty-one days ago", "# October 2026", "in October", "# December 2025", "a year before",
    ]


def test_the_days_are_the_persons_own_when_the_page_knows_their_zone(app, client, monkeypatch):
    monkeypatch.setattr(sidebar, "utcnow", lambda: NOW)  # 10:30 UTC is 23:30 in Auckland (UTC+13)
    store(app, owner_of(client), {"UTC's yesterday": datetime(2026, 12, 6, 12, 0)})  # Auckland's 1 a.m. today
    assert entries(client.get("/").get_data(as_text=True))[:1] == ["# Yesterday"]
    client.set_cookie(date_groups.TIME_ZONE_COOKIE, "Pacific/Auckland")
    assert entries(client.get("/").get_data(as_text=True))[:1] == ["# Today"]
    client.set_cookie(date_groups.TIME_ZONE_COOKIE, "Not/A_Zone")  # unknown: UTC
    assert entries(client.get("/").get_data(as_text=True))[:1] == ["# Yesterday"]


def test_a_group_continued_on_the_next_page_has_no_second_heading(app, client, monkeypatch):
    monkeypatch.setattr(sidebar, "utcnow", lambda: NOW)
    owner = owner_of(client)
    store(app, owner, {f"today {n}": NOW - timedelta(minutes=n) for n in range(101)})
    store(app, owner, {"yesterday": NOW - timedelta(days=1)})
    first = client.get("/").get_data(as_text=True)
    assert entries(first)[0] == "# Today" and entries(first).count("# Today") == 1 and len(entries(first)) == 101
    more = MORE.search(first).group(1).replace("&amp;", "&")
    for headers in (HTMX, {}):  # the htmx page and the plain link's page
        assert entries(client.get(more, headers=headers).get_data(as_text=True)) == ["today 100", "# Yesterday",
                                                                                  "yesterday"]


def test_pinned_conversations_are_on_top_and_unpinning_puts_one_back(app, client, monkeypatch):
    monkeypatch.setattr(sidebar, "utcnow", lambda: NOW)
    ids = store(app, owner_of(client), {"new": NOW, "old": NOW - timedelta(days=40)})
    response = client.post(f"/c/{ids['old']}/pin", data={"pinned": "1", "shown": ids["new"]})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/c/{ids['new']}")
    assert entries(client.get("/").get_data(as_text=True)) == ["# Pinned", "old", "# Today", "new"]
    client.post(f"/c/{ids['old']}/pin", data={"pinned": "0"})
    assert entries(client.get("/").get_data(as_text=True)) == ["# Today", "new", "# October 2026", "old"]


def test_only_the_owner_can_pin(app, client):
    ids = store(app, owner_of(client), {"mine": NOW})
    stranger = app.test_client()
    assert stranger.post(f"/c/{ids['mine']}/pin", data={"pinned": "1"}).status_code == 404
    assert stranger.post("/c/no-such-one/pin", data={"pinned": "1"}).status_code == 404
    assert "# Pinned" not in entries(client.get("/").get_data(as_text=True))


def test_pinning_needs_the_pages_csrf_token(app):
    plain = FlaskClient(app, app.response_class, use_cookies=True)  # sends no token
    ids = store(app, owner_of(plain), {"mine": NOW})
    assert plain.post(f"/c/{ids['mine']}/pin", data={"pinned": "1"}).status_code in (400, 403)


def test_a_conversation_being_answered_says_so_in_the_list(app, client):
    owner = owner_of(client)
    store(app, owner, {"finished": NOW})
    writing = store(app, owner, {"still writing": NOW}, outcome="streaming")["still writing"]
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="writing"') == 1
    marker = re.search(r'<span class="writing" data-conversation="([^"]+)">.*?</span></span>', page)
    assert marker.group(1) == writing and "An answer is being written" in marker.group(0)
