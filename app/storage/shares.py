"""Read-only links to conversations: making one, finding one by its token,
listing and removing an owner's.

A link is a snapshot without a copy: it keeps the id of the newest message
it shows, and shows the conversation's messages up to that id. That is the
conversation as it was when shared because a message's text never changes
once it has ended: Edit and Regenerate do not rewrite messages in place, they
delete the last exchange or answer (queries.drop_last_exchange,
drop_last_answer) and save new rows, whose ids come after the snapshot. If
they delete a message a link showed, the link shows what is left up to that
point, and no copy is kept: what a person deletes must be gone, and a copy
kept only for a link would outlive their own delete.

One more bound: messages made before the link. SQLite gives a new row the
largest id plus one, so after Regenerate deletes the newest answer, the new
answer takes its id again; a message made after the link is never shown,
whatever its id. (Once Regenerate and Edit keep earlier versions as
branches, issue 34 point 4, "up to that id" must become "the path that ends
at that message": the versions beside it are not what was shown.)

A link belongs to whoever owns its conversation (no owner column of its
own), so it follows a conversation a person claims, and another owner's link
is as absent as a missing one.
"""

import secrets
from typing import NamedTuple

from sqlalchemy import delete, func, select, text

from app.storage.models import Conversation, Message, Share, utcnow
from app.storage.queries import STREAMING

# Enough for a link per person shown to, without a list nobody reads.
MAX_LINKS_PER_CONVERSATION = 20


class NothingToShare(Exception):
    """No answer of the conversation has ended yet."""


class TooManyLinks(Exception):
    """The conversation has MAX_LINKS_PER_CONVERSATION links already."""


class SharedConversation(NamedTuple):
    share: Share
    conversation: Conversation
    messages: list


class OwnedShare(NamedTuple):
    """One of an owner's links, as their lists show it."""

    share: Share
    title: str
    message_count: int


def snapshot_end(messages):
    """The id of the newest answer that has ended: a link made while an
    answer is still being written ends at the exchange before it, so it never
    shows half an answer, nor a question without one."""
    return next((m.id for m in reversed(messages) if m.role == "assistant" and m.outcome != STREAMING), None)


def new_token():
    # 256 random bits: the link's only secret, never guessed.
    return secrets.token_urlsafe(32)


def create_share(db, conversation, shown_name=None, with_attachments=False):
    """A new link to `conversation` as it is now. NothingToShare before its
    first answer has ended; TooManyLinks past MAX_LINKS_PER_CONVERSATION."""
    end = snapshot_end(conversation.messages)
    if end is None:
        raise NothingToShare()
    if len(conversation.shares) >= MAX_LINKS_PER_CONVERSATION:
        raise TooManyLinks()
    share = Share(token=new_token(), conversation_id=conversation.id, last_message_id=end,
                  shown_name=shown_name or None, with_attachments=bool(with_attachments), created_at=utcnow())
    db.add(share)
    db.commit()
    return share


def _shown_by(share):
    """The conditions on Message for the messages `share` (a Share, or the
    Share class in a correlated query) shows."""
    return (Message.conversation_id == share.conversation_id, Message.id <= share.last_message_id,
            Message.created_at <= share.created_at)


def _message_count():
    return select(func.count(Message.id)).where(*_shown_by(Share)).correlate(Share).scalar_subquery()


def owner_shares(db, owner_id, conversation_id=None):
    """`owner_id`'s links (of one conversation, or all), newest first, as OwnedShares."""
    query = (select(Share, Conversation.title, _message_count())
             .join(Conversation, Conversation.id == Share.conversation_id)
             .where(Conversation.owner_id == owner_id)
             .order_by(Share.created_at.desc(), Share.id.desc()))
    if conversation_id is not None:
        query = query.where(Share.conversation_id == conversation_id)
    return [OwnedShare(share, title, count) for share, title, count in db.execute(query)]


def stop_share(db, owner_id, share_id):
    """Remove `owner_id`'s link `share_id`: its conversation's id, or None if
    there is no such link of theirs. The link is a 404 from now on."""
    found = db.execute(
        select(Share.id, Share.conversation_id).join(Conversation, Conversation.id == Share.conversation_id)
        .where(Share.id == share_id, Conversation.owner_id == owner_id)
    ).first()
    if found is None:
        return None
    db.execute(delete(Share).where(Share.id == share_id))
    db.commit()
    return found.conversation_id


def shared_conversation(db, token):
    """The link with `token`, its conversation and the messages it shows
    (oldest first, their files loaded), or None."""
    share = db.scalar(select(Share).where(Share.token == token))
    if share is None:
        return None
    conversation = db.get(Conversation, share.conversation_id)
    messages = list(db.scalars(select(Message).where(*_shown_by(share)).order_by(Message.id)))
    return SharedConversation(share, conversation, messages)


# A file is served through a link only if the link shows it: the owner chose
# to include files, and the question that carries it is in the snapshot.
_SHARED_ATTACHMENT = text("""
    SELECT l.id, l.name, l.mime_type, l.size, l.has_thumbnail, l.file_id
    FROM shares s
    JOIN messages m ON m.conversation_id = s.conversation_id AND m.id <= s.last_message_id
                   AND m.created_at <= s.created_at
    JOIN message_attachments l ON l.message_id = m.id
    WHERE s.token = :token AND s.with_attachments AND l.id = :attachment_id""")


def shared_attachment(connection, token, attachment_id):
    """(id, name, mime_type, size, has_thumbnail, file_id) of a file the link
    `token` shows, or None."""
    return connection.execute(_SHARED_ATTACHMENT, {"token": token, "attachment_id": attachment_id}).first()
