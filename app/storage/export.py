"""Reading an owner's conversations for export, a batch at a time.

The export of everything is streamed, so it reads in batches (keyset pages
of app/storage/conversation_pages.py, each with its messages in one query)
on a session of its own: the view's session is gone once the view returns.
"""

from collections import defaultdict

from sqlalchemy import select, text

from app.storage.conversation_pages import conversation_page
from app.storage.models import Message

BATCH = 50


def messages_of(session, conversation_ids):
    """Each conversation's messages, oldest first: {conversation id: [Message]}."""
    found = defaultdict(list)
    query = select(Message).where(Message.conversation_id.in_(conversation_ids)).order_by(Message.id)
    for message in session.scalars(query):
        found[message.conversation_id].append(message)
    return found


def every_conversation(session_factory, owner_id, batch=BATCH):
    """Yield (conversation, messages) for each of the owner's conversations,
    newest first, reading `batch` at a time with sessions from `session_factory`."""
    after = None
    while True:
        with session_factory() as db:
            page = conversation_page(db, owner_id, after, size=batch)
            messages = messages_of(db, [c.id for c in page.conversations]) if page.conversations else {}
            db.expunge_all()
        for conversation in page.conversations:
            yield conversation, messages.get(conversation.id, [])
        if page.next_after is None:
            return
        after = page.next_after


_FILE_NAMED = text("SELECT sha256, NULL FROM attachment_files WHERE id = :id")
_FILE_WITH_BYTES = text("SELECT sha256, data FROM attachment_files WHERE id = :id")


def file_reader(session_factory, with_bytes):
    """`files(link)` for the export: an attached file's (sha256, bytes), the
    bytes None when the export names files only; read one file at a time."""
    statement = _FILE_WITH_BYTES if with_bytes else _FILE_NAMED

    def files(link):
        with session_factory() as db:
            found = db.execute(statement, {"id": link.file_id}).first()
        if found is None:  # its conversation was deleted while the export was written
            return None, None
        return found[0], bytes(found[1]) if found[1] is not None else None

    return files
