"""CHAT_API_KEYS entries: `key`, owned by the operator as ever, or
`key=email`, whose stored conversations belong to that person and show on
their page. A key may itself end in "=" (base64 padding): only a part after
the last "=" that holds an "@" is a person."""

import functools

from app.auth.people import owner_of, person_with_email
from app.web.identity import key_digest
from app.web.refusals import Refused


def split_key_entry(entry):
    """(key, the person's email or None)."""
    key, equals, person = entry.rpartition("=")
    if equals and key and "@" in person:
        return key, person.strip().lower()
    return entry, None


@functools.lru_cache(maxsize=4)
def key_people(entries):
    """{each key's digest (what is compared): its person's email or None}."""
    return {key_digest(key): email for key, email in map(split_key_entry, entries)}


def owner_for_key_person(db, email):
    """The owner id of the person a key is tied to. They must have signed in
    once: until then the app does not know who they are."""
    person = person_with_email(db, email)
    if person is None:
        raise Refused(403, f"This API key belongs to {email}, who has not signed in to the chat yet: "
                           "they sign in once on the page, then the key works.")
    return owner_of(person)


NEEDS_KEYS_WITH_SIGN_IN = (
    "This chat's people sign in, and its API has no keys, so the API is closed: the operator sets "
    "CHAT_API_KEYS (key, or key=email for a person's own programs) and you send Authorization: Bearer <key>."
)
