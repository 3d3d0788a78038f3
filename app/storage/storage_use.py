"""What each owner keeps, for the per-person allowance (CHAT_STORAGE_PER_PERSON_MB).

Every message counts its bytes (UTF-8) once they are final: a question when
it is saved, an answer when it ends (its text, its HTML, its thoughts and
its sources). A conversation keeps the sum of its messages', maintained by
the same writes, so an owner's total is one SUM over their conversations
read from an index (owner_id, stored_bytes): 2.7 ms for 50,000 conversations
on SQLite, where a SUM over their 100,000 messages took 31 ms. Deleting a
conversation, or moving it to another owner, changes the total with no
bookkeeping; Regenerate and Edit count the conversation again
(`recount_conversation`). An answer still being written counts nothing
until it ends (its length is bounded by the answer's own limits).
"""

from app.storage import driver_sql

_USED = "SELECT COALESCE(SUM(stored_bytes), 0) FROM conversations WHERE owner_id = :owner_id"
_RECOUNT = """
    UPDATE conversations SET stored_bytes =
        (SELECT COALESCE(SUM(m.stored_bytes), 0) FROM messages m WHERE m.conversation_id = :conversation_id)
    WHERE id = :conversation_id"""


def size_of(*texts):
    """Bytes that `texts` take as UTF-8 (None counts nothing)."""
    return sum(len(text.encode("utf-8", "surrogatepass")) for text in texts if text)


def used_bytes(connection, owner_id):
    """What `owner_id`'s conversations keep, in bytes."""
    return int(driver_sql.rows(connection, _USED, {"owner_id": owner_id})[0][0])


def recount_conversation(connection, conversation_id):
    """Count a conversation again from its messages (after some were removed)."""
    driver_sql.run(connection, _RECOUNT, {"conversation_id": conversation_id})
