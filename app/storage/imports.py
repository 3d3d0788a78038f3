"""Saving conversations brought back from an export file, for one owner.

Everything one import saves is in the caller's one transaction: the caller
commits when the whole file was read and checked, or rolls back and nothing
of it stays. A conversation is known by where it was first exported
(`Conversation.imported_from`, unique per owner): one the owner already has,
made here or imported before, is not saved again.
"""

from sqlalchemy import func, insert, or_, select, text

from app.storage import attachment_store
from app.storage.models import Conversation, Message, MessageAttachment, new_conversation_id
from app.storage.storage_use import size_of

_OWN_FILE = text("""
    SELECT id, mime_type, size, thumbnail IS NOT NULL FROM attachment_files
    WHERE owner_id = :owner_id AND sha256 = :sha256""")
_INSERT_CONVERSATION = insert(Conversation.__table__)
_INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)
# attach() numbers the files of one call from 0; an import links one at a time.
_POSITION = text("UPDATE message_attachments SET position = :position WHERE id = :id")


class MissingFile(LookupError):
    """A file named without its bytes, and the importer keeps no copy of it."""


def already_here(session, owner_id, origin):
    """Whether `owner_id` has the conversation first exported as `origin`:
    the very one (exported from here), or one imported from it before."""
    found = select(func.count()).select_from(Conversation).where(
        Conversation.owner_id == owner_id,
        or_(Conversation.id == origin, Conversation.imported_from == origin),
    )
    return bool(session.scalar(found))


def save_imported(session, owner_id, imported):
    """Save `imported` (app/portability/import_records.ImportedConversation)
    as `owner_id`'s, with its messages and files; its new id. Answers are
    stored ended, with their outcome; nothing of the file is stored as HTML.
    MissingFile if a file came without bytes and the owner has no copy.
    (Core inserts, not the ORM's unit of work: an import of thousands of
    conversations holds SQLite's one writer for its whole transaction, and
    the ORM took 4 times as long.)"""
    connection = session.connection()
    rows = [_message_row(message) for message in imported.messages]
    conversation_id = new_conversation_id()
    connection.execute(_INSERT_CONVERSATION, {
        "id": conversation_id, "owner_id": owner_id, "title": imported.title, "created_at": imported.created_at,
        "updated_at": imported.updated_at, "model": imported.model, "instructions": imported.instructions,
        "imported_from": imported.origin, "stored_bytes": sum(row["stored_bytes"] for row in rows),
    })
    for message, row in zip(imported.messages, rows):
        message_id = connection.execute(_INSERT_MESSAGE, {**row, "conversation_id": conversation_id}).scalar_one()
        if message.files:
            _attach(connection, owner_id, conversation_id, message_id, message.files)
    return conversation_id


def _message_row(message):
    usage, grounding = message.usage, message.grounding
    grounding_json = grounding.to_json() if grounding else None
    return {
        "role": message.role, "content": message.content, "outcome": message.outcome, "error": message.error,
        "model": message.model, "created_at": message.created_at, "thoughts": message.thoughts,
        "grounding": grounding_json, "search": message.search,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "input_modalities": usage.modalities_json() if usage else None,
        "stored_bytes": size_of(message.content, message.thoughts, grounding_json),
    }


def _attach(connection, owner_id, conversation_id, message_id, files):
    """Link `files` to `message` in order, through attachment_store.attach
    (which stores new bytes once per owner and counts them on the message
    and the conversation). A file named without its bytes is linked to the
    owner's own copy, or MissingFile."""
    for position, file in enumerate(files):
        if file.upload is not None:
            link = attachment_store.attach(connection, owner_id, conversation_id, message_id, [file.upload])[0]
        else:
            found = connection.execute(_OWN_FILE, {"owner_id": owner_id, "sha256": file.sha256}).first()
            if found is None:
                raise MissingFile(file.name)
            kept = MessageAttachment(file_id=found[0], name=file.name, mime_type=found[1], size=found[2],
                                     has_thumbnail=bool(found[3]))
            link = attachment_store.attach(connection, owner_id, conversation_id, message_id, carried=[kept])[0]
        if position:
            connection.execute(_POSITION, {"position": position, "id": link.id})
