"""The sidebar's list as the templates show it: the pinned conversations
(first page only), then a page of the rest under date headings, each marked
if an answer of it is still being written.

`sidebar_page` is used by the chat page (app/web/page.py) and by "Load more"
(listing.py); a later page continues the group the last one ended in, so a
heading is not repeated across pages.
"""

from typing import NamedTuple

from flask import request

from app.storage.conversation_pages import being_written, conversation_page, pinned_conversations
from app.storage.models import utcnow
from app.web.library.date_groups import PINNED, TIME_ZONE_COOKIE, TODAY, group_of, with_headings, zone_from


class SidebarPage(NamedTuple):
    # (heading or None, conversation); (TODAY, None): a hidden "Today"
    # heading on a first page without one, for a conversation the person
    # writes in next to go under (templates/_exchange_start.html).
    rows: list
    more_after: object  # the next page's Cursor, or None
    writing: set  # ids of conversations with an answer being written


def person_zone():
    return zone_from(request.cookies.get(TIME_ZONE_COOKIE, ""))


def sidebar_page(db, owner_id, after=None, now=None):
    now = now or utcnow()
    zone = person_zone()
    page = conversation_page(db, owner_id, after)
    rows = []
    if after is None:
        pinned = pinned_conversations(db, owner_id)
        rows += [(PINNED if index == 0 else None, item) for index, item in enumerate(pinned)]
    previous = group_of(after.updated_at, now, zone) if after is not None else None
    dated = with_headings(page.conversations, now, zone, previous)
    if after is None and not any(heading == TODAY for heading, _item in dated):
        rows.append((TODAY, None))
    rows += dated
    writing = being_written(db, [item.id for _heading, item in rows if item is not None])
    return SidebarPage(rows, page.next_after, writing)
