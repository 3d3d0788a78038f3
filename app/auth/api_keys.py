"""CHAT_API_KEYS: who a program's key acts for.

An entry is `key` (the operator's, as ever: its conversations are the key's
own), `key=email` or `key=issuer|subject` (a person's: its conversations show
on their page). An email does not say who a person is: a provider that never
sends email_verified lets a second account carry anyone's address. So a
`key=email` key is bound, at its first use, to the one person (issuer and
subject) who then carries the email, and from then on acts for them only.
At first use rather than at that person's sign-in, because only then does
the app see everyone who carries the email: two or more and the key is
refused, with a log line naming each of them for the operator to choose
(`key=issuer|subject`). Sign-in paths need not know about keys at all.

Keys are compared as their HMAC under SECRET_KEY (`key_digest`), each
one every time, so the time taken says nothing about which key is close.
"""

import hashlib
import hmac
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.people import owner_of, people_with_email, person_named
from app.config import split_key_entry
from app.refusals import Refused
from app.storage.models import ApiKeyBinding, Conversation, Person

__all__ = ["split_key_entry"]  # the entries' syntax lives with the setting (app/config.py)

log = logging.getLogger(__name__)

NEEDS_KEYS_WITH_SIGN_IN = (
    "This chat's people sign in, and its API has no keys, so the API is closed: the operator sets "
    "CHAT_API_KEYS (key, or key=email for a person's own programs) and you send Authorization: Bearer <key>."
)
WRONG_KEY = "A valid API key is required: send Authorization: Bearer <key>."


# SECRET_KEY also signs the session cookie: the label keeps the two uses apart.
API_KEY_DIGEST_LABEL = b"chat API key\0"


def key_digest(secret_key, key):
    """An API key's HMAC-SHA256 under SECRET_KEY: what is compared, what names
    its owner, what the database keeps. A leaked database alone cannot be
    checked against guessed keys, as a plain SHA-256 could."""
    return hmac.new(secret_key.encode(), API_KEY_DIGEST_LABEL + key.encode(), hashlib.sha256).digest()


def key_owner(digest):
    """The owner of a plain key's conversations (the operator's programs)."""
    return "key:" + digest.hex()[:32]


@dataclass(frozen=True)
class ConfiguredKey:
    digest: bytes
    position: int  # its place in CHAT_API_KEYS: how logs name it, never by the key
    person: str | tuple | None  # as ApiKeyEntry.person
    # What a plain key's owner was named before keys were HMACs (a SHA-256),
    # kept in memory to move those conversations once (`adopt_older_conversations`).
    older_owner: str | None


class ApiKeys:
    """The configured keys as their digests, and which of them a request sent."""

    def __init__(self, entries, secret_key):
        self.secret_key = secret_key
        self.keys = tuple(
            ConfiguredKey(key_digest(secret_key, entry.key), position, entry.person,
                          None if entry.person else "key:" + hashlib.sha256(entry.key.encode()).hexdigest()[:32])
            for position, entry in enumerate(map(split_key_entry, entries), 1)
        )
        self.adopted = set()

    def match(self, sent):
        """The ConfiguredKey `sent` is, or None."""
        digest = key_digest(self.secret_key, sent)
        found = None
        for key in self.keys:
            if hmac.compare_digest(key.digest, digest):
                found = key
        return found


def owner_for_key(db, keys, key):
    """The owner id a matched key acts as, or Refused (403) saying why not."""
    if key.person is None:
        owner = key_owner(key.digest)
        if key.position not in keys.adopted:
            adopt_older_conversations(db, key, owner)
            keys.adopted.add(key.position)
        return owner
    if isinstance(key.person, tuple):
        return owner_of(named_person(db, key))
    return owner_of(bound_person(db, key))


def adopt_older_conversations(db, key, owner):
    moved = db.execute(
        update(Conversation).where(Conversation.owner_id == key.older_owner).values(owner_id=owner)
    ).rowcount
    db.commit()
    if moved:
        log.info("CHAT_API_KEYS key %d: its %d conversation(s) from before the keys' HMAC are kept", key.position, moved)


def named_person(db, key):
    issuer, subject = key.person
    person = person_named(db, issuer, subject)
    if person is None:
        raise Refused(403, f"This API key belongs to {issuer}|{subject}, who has not signed in to the chat "
                           "(or was removed): they sign in once on the page, then the key works.")
    return person


def bound_person(db, key):
    """The person a `key=email` key is bound to, binding it now if it is not yet."""
    email, digest = key.person, key.digest.hex()
    same_person = (ApiKeyBinding.issuer == Person.issuer) & (ApiKeyBinding.subject == Person.subject)
    person = db.scalar(
        select(Person).join(ApiKeyBinding, same_person).where(ApiKeyBinding.digest == digest, ApiKeyBinding.email == email)
    )
    if person is not None:
        return person
    binding = db.get(ApiKeyBinding, digest)
    if binding is not None and binding.email == email:
        # Bound, and that person is gone: whoever carries the email now is someone else.
        raise Refused(403, f"This API key was bound to the person who had {email}, who is no longer a user here: "
                           "the operator names the person in CHAT_API_KEYS (key=issuer|subject) or issues a new key.")
    return bind(db, key, binding)


def bind(db, key, binding):
    email = key.person
    carriers = people_with_email(db, email)
    if not carriers:
        raise Refused(403, f"This API key belongs to {email}, who has not signed in to the chat yet: "
                           "they sign in once on the page, then the key works.")
    if len(carriers) > 1:
        log.warning("CHAT_API_KEYS key %d is tied to %s, which %d people carry: %s. Refused until the operator "
                    "names one as key=issuer|subject", key.position, email, len(carriers),
                    ", ".join(f"{p.issuer}|{p.subject} (#{p.id})" for p in carriers))
        raise Refused(403, f"This API key is tied to {email}, which several people here carry, so it is refused: "
                           "the operator names one of them in CHAT_API_KEYS (key=issuer|subject; the server log "
                           "lists them).")
    person = carriers[0]
    if binding is None:
        db.add(ApiKeyBinding(digest=key.digest.hex(), email=email, issuer=person.issuer, subject=person.subject))
    else:  # the operator tied the key to another email since
        binding.email, binding.issuer, binding.subject = email, person.issuer, person.subject
    try:
        db.commit()
    except IntegrityError:
        db.rollback()  # another request bound it at the same moment
        return bound_person(db, key)
    log.info("CHAT_API_KEYS key %d (%s) is now bound to %s|%s (#%d)", key.position, email, person.issuer,
             person.subject, person.id)
    return person
