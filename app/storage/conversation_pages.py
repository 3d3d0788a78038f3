"""The sidebar's pages of one owner's conversations, newest first.

Keyset paging: a page after another starts after the last one's (updated
time, id), so every page costs one range read of the (owner_id, updated_at,
id) index however many came before, and a conversation touched meanwhile
moves to the top instead of shifting every page under the reader.
"""

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, or_, select

from app.storage.models import Conversation

PAGE_SIZE = 100
_CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class Cursor(NamedTuple):
    """Where the next page starts: after this updated time and id."""

    updated_at: datetime
    conversation_id: str

    def __str__(self):
        return f"{self.updated_at.isoformat()}~{self.conversation_id}"

    @classmethod
    def parse(cls, text):
        """A Cursor from its text (in a URL), or None if it is not one."""
        stamp, _, conversation_id = (text or "").partition("~")
        if not _CONVERSATION_ID.fullmatch(conversation_id):
            return None
        try:
            return cls(datetime.fromisoformat(stamp), conversation_id)
        except ValueError:
            return None


class ConversationPage(NamedTuple):
    conversations: list
    next_after: Cursor | None  # None: this is the last page


def conversation_page(session, owner_id, after=None, size=PAGE_SIZE):
    """A page of the owner's conversations, newest first, after `after` (a Cursor)."""
    query = select(Conversation).where(Conversation.owner_id == owner_id)
    if after is not None:
        query = query.where(or_(
            Conversation.updated_at < after.updated_at,
            and_(Conversation.updated_at == after.updated_at, Conversation.id < after.conversation_id),
        ))
    # One more than shown says whether there is a next page.
    found = list(session.scalars(
        query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(size + 1)
    ))
    shown = found[:size]
    more = len(found) > size
    return ConversationPage(shown, Cursor(shown[-1].updated_at, shown[-1].id) if more else None)
