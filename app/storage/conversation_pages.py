"""The sidebar's pages of one owner's conversations, newest first.

Keyset paging: a page after another starts after the last one's (updated
time, id), so every page costs one range read of the (owner_id, updated_at,
id) index however many came before, and a conversation touched meanwhile
moves to the top instead of shifting every page under the reader.

Pinned conversations are not in the pages: the first page of the sidebar
shows all of them above it (`pinned_conversations`), newest pin first.
"""

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, or_, select

from app.storage.models import Conversation, Message, utcnow
from app.storage.queries import STREAMING

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
    query = select(Conversation).where(Conversation.owner_id == owner_id, Conversation.pinned_at.is_(None))
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


# A person pins a handful; the bound keeps one page's cost bounded whatever they do.
MAX_PINNED_SHOWN = 200


def pinned_conversations(session, owner_id):
    """The owner's pinned conversations, newest pin first."""
    return list(session.scalars(
        select(Conversation).where(Conversation.owner_id == owner_id, Conversation.pinned_at.is_not(None))
        .order_by(Conversation.pinned_at.desc(), Conversation.id.desc()).limit(MAX_PINNED_SHOWN)
    ))


def set_pinned(session, conversation, pinned):
    """Pin the conversation (to the top of its owner's list) or unpin it."""
    if pinned and conversation.pinned_at is None:
        conversation.pinned_at = utcnow()
    elif not pinned:
        conversation.pinned_at = None
    session.commit()


def being_written(session, conversation_ids):
    """Which of these conversations have an answer still being written."""
    if not conversation_ids:
        return set()
    return set(session.scalars(
        select(Message.conversation_id).where(Message.conversation_id.in_(list(conversation_ids)),
                                              Message.outcome == STREAMING).distinct()
    ))
