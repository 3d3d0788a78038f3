"""Saving conversations brought back from an export file, for one owner.

Everything one import saves is in the caller's one transaction: the caller
commits when the whole file was read and checked, or rolls back and nothing
of it stays. A conversation is known by where it was first exported
(`Conversation.imported_from`, unique per owner): one the owner already has,
made here or imported before, is not saved again.
"""

from sqlalchemy import func, or_, select, text

from app.storage import attachment_store
from app.storage.models import Conversation, Message, MessageAttachment, new_conversation_id
from app.storage.storage_use import size_of

_OWN_FILE = text("""
    SELECT id, mime_type, size, thumbnail IS NOT NULL FROM attachment_files
    WHERE owner_id = :owner_id AND sha256 = :sha256""")
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
    MissingFile if a file came without bytes and the owner has no copy."""
    conversation = Conversation(
        id=new_conversation_id(), owner_id=owner_id, title=imported.title, created_at=imported.created_at,
        updated_at=imported.updated_at, model=imported.model, instructions=imported.instructions,
        imported_from=imported.origin, stored_bytes=0,
    )
    session.add(conversation)
    session.flush()
    connection = session.connection()
    total = 0
    for message in imported.messages:
        usage, grounding = message.usage, message.grounding
        grounding_json = grounding.to_json() if grounding else None
        row = Message(
            conversation_id=conversation.id, role=message.role, content=message.content,
            outcome=message.outcome, error=message.error, model=message.model, created_at=message.created_at,
            thoughts=message.thoughts, grounding=grounding_json, search=message.search,
            input_tokens=usage.input_tokens if usage else None, output_tokens=usage.output_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
            stored_bytes=size_of(message.content, message.thoughts, grounding_json),
        )
        session.add(row)
        session.flush()
        total += row.stored_bytes
        if message.files:
            total += _attach(connection, owner_id, conversation.id, row, message.files)
    conversation.stored_bytes = total
    session.flush()
    # What was saved is not needed again: the next conversation starts light.
    session.expunge_all()
    return conversation.id


def _attach(connection, owner_id, conversation_id, message, files):
    """Link `files` to `message` in order, through attachment_store.attach
    (which stores new bytes once per owner and counts them on the message
    and the conversation); the bytes they count. A file named without its
    bytes is linked to the owner's own copy, or MissingFile."""
    total = 0
    for position, file in enumerate(files):
        if file.upload is not None:
            link = attachment_store.attach(connection, owner_id, conversation_id, message.id, [file.upload])[0]
            total += attachment_store.stored_size(file.upload)
        else:
            found = connection.execute(_OWN_FILE, {"owner_id": owner_id, "sha256": file.sha256}).first()
            if found is None:
                raise MissingFile(file.name)
            kept = MessageAttachment(file_id=found[0], name=file.name, mime_type=found[1], size=found[2],
                                     has_thumbnail=bool(found[3]))
            link = attachment_store.attach(connection, owner_id, conversation_id, message.id, carried=[kept])[0]
            total += kept.size
        connection.execute(_POSITION, {"position": position, "id": link.id})
    return total
