"""Deleting everything one owner keeps: their conversations, every message,
the links to their files and the files no one else's message carries, and
their read-only links. Who they are (a person, their sign-ins, an API key's
binding) is not touched: app/auth/people.py's remove_person deletes them
after this.

The billed calls (app/storage/billed_calls.py) stay: they are the
operator's record of what answers cost, and hold no text.
"""

from typing import NamedTuple

from sqlalchemy import delete, exists, func, select

from app.storage.models import AttachmentFile, Conversation, Message, MessageAttachment, Share
from app.storage.queries import lock_conversations


# Ids in one IN (...): well within SQLite's limit on parameters.
IDS_PER_STATEMENT = 500


class Deleted(NamedTuple):
    conversations: int
    messages: int
    files: int


def delete_owner_content(db, owner_id):
    """Delete all of `owner_id`'s content in the session's transaction (the
    caller commits); what went (Deleted). Locks as every delete takes them:
    the conversations' rows before their messages' (see lock_conversations)."""
    lock_conversations(db, Conversation.owner_id == owner_id)
    conversations = select(Conversation.id).where(Conversation.owner_id == owner_id)
    messages = select(Message.id).where(Message.conversation_id.in_(conversations))
    # The files their messages carry, whoever keeps the bytes (a claimed
    # browser's conversations may carry files still kept as that browser's).
    carried = set(db.scalars(select(MessageAttachment.file_id).where(MessageAttachment.message_id.in_(messages))))
    # Explicit deletes, not the foreign keys' ON DELETE alone: the order of
    # the locks is then this one.
    db.execute(delete(MessageAttachment).where(MessageAttachment.message_id.in_(messages)))
    message_count = db.execute(delete(Message).where(Message.conversation_id.in_(conversations))).rowcount
    db.execute(delete(Share).where(Share.conversation_id.in_(conversations)))  # their links open nothing now
    conversation_count = db.execute(delete(Conversation).where(Conversation.owner_id == owner_id)).rowcount
    # The bytes go when no message (theirs or anyone's) carries them any more.
    unlinked = ~exists().where(MessageAttachment.file_id == AttachmentFile.id)
    files = db.execute(delete(AttachmentFile).where(AttachmentFile.owner_id == owner_id, unlinked)).rowcount
    carried = sorted(carried)
    for start in range(0, len(carried), IDS_PER_STATEMENT):
        chunk = carried[start:start + IDS_PER_STATEMENT]
        files += db.execute(delete(AttachmentFile).where(AttachmentFile.id.in_(chunk), unlinked)).rowcount
    return Deleted(conversation_count, message_count, files)


def owner_totals(db, owner_id):
    """(conversations, messages, files) `owner_id` keeps now: what the page
    says Delete all would delete."""
    conversations = select(Conversation.id).where(Conversation.owner_id == owner_id)
    count_conversations = db.scalar(select(func.count()).select_from(Conversation)
                                    .where(Conversation.owner_id == owner_id))
    count_messages = db.scalar(select(func.count()).select_from(Message)
                               .where(Message.conversation_id.in_(conversations)))
    count_files = db.scalar(select(func.count()).select_from(MessageAttachment).join(Message)
                            .where(Message.conversation_id.in_(conversations)))
    return count_conversations, count_messages, count_files
