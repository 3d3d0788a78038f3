"""Attached files in the database: stored once per owner, linked to messages.

A file's bytes are keyed by (owner, SHA-256), so the same file attached
again (in this conversation or another) is not stored twice; each message
links its files with the names they were sent as. What a message's files
take counts in its `stored_bytes` (app/storage/storage_use.py), once per
message that carries them: deleting the message gives it back. Deleting a
message deletes its links (a foreign key's ON DELETE, and the ORM's
cascade); a file no link points to any more is removed with
`drop_unlinked`, which conversation and person deletion call.
"""

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError

from app.storage.models import MessageAttachment, utcnow

_FIND_FILE = text("SELECT id FROM attachment_files WHERE owner_id = :owner_id AND sha256 = :sha256")
_INSERT_FILE = text("""
    INSERT INTO attachment_files (owner_id, sha256, mime_type, size, data, thumbnail, created_at)
    VALUES (:owner_id, :sha256, :mime_type, :size, :data, :thumbnail, :now)""")
_INSERT_LINK = text("""
    INSERT INTO message_attachments (message_id, file_id, position, name, mime_type, size, has_thumbnail)
    VALUES (:message_id, :file_id, :position, :name, :mime_type, :size, :has_thumbnail)
    RETURNING id""")
_COUNT_MESSAGE = text("UPDATE messages SET stored_bytes = stored_bytes + :size WHERE id = :message_id")
_COUNT_CONVERSATION = text("UPDATE conversations SET stored_bytes = stored_bytes + :size WHERE id = :conversation_id")
_FILES_LISTED_BEFORE = text("""
    SELECT l.message_id, l.name, l.mime_type, l.size, l.file_id
    FROM messages a
    JOIN messages m ON m.conversation_id = a.conversation_id
    JOIN message_attachments l ON l.message_id = m.id
    WHERE a.id = :answer_id AND m.id < a.id AND m.role = 'user'
    ORDER BY l.message_id, l.position""")
_FILES_DATA = text("SELECT id, data FROM attachment_files WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))
_OWNED = text("""
    SELECT l.id, l.name, l.mime_type, l.size, l.has_thumbnail, l.file_id
    FROM message_attachments l
    JOIN messages m ON m.id = l.message_id
    JOIN conversations c ON c.id = m.conversation_id
    WHERE l.id = :attachment_id AND c.owner_id = :owner_id""")
_DROP_UNLINKED = text("""
    DELETE FROM attachment_files WHERE owner_id = :owner_id
    AND NOT EXISTS (SELECT 1 FROM message_attachments l WHERE l.file_id = attachment_files.id)""")


def stored_size(upload):
    """What one attached file counts against the owner's allowance."""
    return upload.size + len(upload.thumbnail or b"")


def _file_id(connection, owner_id, upload):
    """The id of `owner_id`'s copy of `upload`'s bytes, stored now if new."""
    found = connection.execute(_FIND_FILE, {"owner_id": owner_id, "sha256": upload.sha256}).first()
    if found is not None:
        return found[0]
    try:
        with connection.begin_nested():
            connection.execute(_INSERT_FILE, {
                "owner_id": owner_id, "sha256": upload.sha256, "mime_type": upload.kind.mime_type,
                "size": upload.size, "data": upload.data, "thumbnail": upload.thumbnail, "now": utcnow(),
            })
    except IntegrityError:
        pass  # the same bytes, stored by a request at the same time
    return connection.execute(_FIND_FILE, {"owner_id": owner_id, "sha256": upload.sha256}).first()[0]


def attach(connection, owner_id, conversation_id, message_id, uploads=(), carried=()):
    """Link `uploads` (app/attachments/uploads.Upload) and `carried` (the
    links of an edited question: MessageAttachment rows) to message
    `message_id`, in the caller's transaction, and count them. Returns the
    links in order (MessageAttachments outside any session)."""
    links, total = [], 0
    rows = [(link.file_id, link.name, link.mime_type, link.size, link.has_thumbnail) for link in carried]
    for upload in uploads:
        rows.append((_file_id(connection, owner_id, upload), upload.name, upload.kind.mime_type, upload.size,
                     upload.thumbnail is not None))
        total += stored_size(upload)
    total += sum(row[3] for row in rows[:len(carried)])
    for position, (file_id, name, mime_type, size, has_thumbnail) in enumerate(rows):
        row = {"message_id": message_id, "file_id": file_id, "position": position, "name": name,
               "mime_type": mime_type, "size": size, "has_thumbnail": bool(has_thumbnail)}
        link_id = connection.execute(_INSERT_LINK, row).scalar_one()
        links.append(MessageAttachment(id=link_id, **row))
    if total:
        connection.execute(_COUNT_MESSAGE, {"size": total, "message_id": message_id})
        connection.execute(_COUNT_CONVERSATION, {"size": total, "conversation_id": conversation_id})
    return links


def files_listed_before(connection, answer_id):
    """{question id: [(name, mime type, size, file id)]} of every question
    before `answer_id` in its conversation, without their bytes: which of
    them the model is sent is chosen first (app/answers/model_history.py),
    so a long conversation's files are not all read for every answer."""
    found = {}
    rows = connection.execute(_FILES_LISTED_BEFORE, {"answer_id": answer_id})
    for message_id, name, mime_type, size, file_id in rows:
        found.setdefault(message_id, []).append((name, mime_type, size, file_id))
    return found


def files_data(connection, file_ids):
    """{file id: bytes} of `file_ids`."""
    if not file_ids:
        return {}
    return {file_id: bytes(data) for file_id, data in connection.execute(_FILES_DATA, {"ids": list(file_ids)})}


def owned_attachment(connection, owner_id, attachment_id):
    """(id, name, mime_type, size, has_thumbnail, file_id) of `owner_id`'s
    attachment, or None: someone else's is as absent as a missing one."""
    return connection.execute(_OWNED, {"owner_id": owner_id, "attachment_id": attachment_id}).first()


def file_bytes(connection, file_id, thumbnail=False):
    column = "thumbnail" if thumbnail else "data"
    found = connection.execute(text(f"SELECT {column} FROM attachment_files WHERE id = :id"), {"id": file_id}).first()
    return bytes(found[0]) if found is not None and found[0] is not None else None


def drop_unlinked(connection, owner_id):
    """Remove `owner_id`'s files that no message carries any more."""
    connection.execute(_DROP_UNLINKED, {"owner_id": owner_id})
