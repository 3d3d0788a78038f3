"""People who sign in and what they own: finding or making a person at sign-in,
moving a browser's anonymous conversations to them, their usage, removing them.

Storage only: no HTTP. A person's conversations are owned by the string
`owner_of(person)`, beside the anonymous browsers' ids and the API keys'
"key:..." owners, so every existing query on `owner_id` serves people too.
"""

from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.storage.models import AttachmentFile, BilledCall, Conversation, Person, SignIn, utcnow
from app.storage.owner_data import delete_owner_content

OWNER_PREFIX = "person:"
API_KEY_OWNER_PREFIX = "key:"  # app/web/identity.py's owners of API keys
# The issuer of people named by an authenticating proxy's header (app/auth/proxy.py).
PROXY_ISSUER = "proxy"
# How stale `seen_at` may get before a request writes it again: once a day is
# enough for "last seen", and spares every page request a write.
SEEN_AT_PRECISION = timedelta(days=1)


def owner_of(person):
    return f"{OWNER_PREFIX}{person.id}"


def is_anonymous_owner(owner_id):
    """A browser's own id (CHAT_AUTH=none), not a person's or an API key's."""
    return bool(owner_id) and not owner_id.startswith((OWNER_PREFIX, API_KEY_OWNER_PREFIX))


def shown_name(person):
    return person.name or person.email or person.subject


def person_signing_in(db, issuer, subject, email, name):
    """The person `issuer` knows as `subject`, made at their first sign-in.
    Their email and name are what the issuer says now (people change them);
    nothing is written when nothing changed since the last day."""
    person = db.scalar(select(Person).where(Person.issuer == issuer, Person.subject == subject))
    now = utcnow()
    if person is not None and (person.email, person.name) == (email, name) and now - person.seen_at < SEEN_AT_PRECISION:
        return person
    if person is None:
        person = Person(issuer=issuer, subject=subject, created_at=now)
        db.add(person)
    person.email, person.name, person.seen_at = email, name, now
    try:
        db.commit()
    except IntegrityError:
        # Two first requests at once (two tabs behind the proxy): the other made them.
        db.rollback()
        person = db.scalar(select(Person).where(Person.issuer == issuer, Person.subject == subject))
    return person


def _carries_email(email):
    return or_(Person.email == email, (Person.issuer == PROXY_ISSUER) & (Person.subject == email))


def person_with_email(db, email):
    """The person an operator names by email (the `app.users` command): the
    one seen last if several have it."""
    email = email.strip().lower()
    return db.scalar(
        select(Person).where(_carries_email(email)).order_by(Person.seen_at.desc(), Person.id.desc()).limit(1)
    )


def people_with_email(db, email):
    """Everyone who carries `email` now, oldest first: more than one means
    the email no longer says who is meant."""
    return db.scalars(select(Person).where(_carries_email(email.strip().lower())).order_by(Person.id)).all()


def person_named(db, issuer, subject):
    """The person `issuer` knows as `subject`, if they have signed in."""
    if issuer == PROXY_ISSUER:
        subject = subject.lower()  # the proxy's names are kept lower-case (app/auth/proxy.py)
    return db.scalar(select(Person).where(Person.issuer == issuer, Person.subject == subject))


def count_conversations(db, owner_id):
    return db.scalar(select(func.count()).select_from(Conversation).where(Conversation.owner_id == owner_id))


def move_conversations(db, from_owner, person):
    """Give a browser's anonymous conversations to `person`; how many moved.
    Only an anonymous owner's: never another person's or an API key's."""
    if not is_anonymous_owner(from_owner):
        return 0
    moved = db.execute(
        update(Conversation).where(Conversation.owner_id == from_owner).values(owner_id=owner_of(person))
    ).rowcount
    # Their attached files go too, but for any the person already keeps (the
    # links still find them: a file is served through its conversation's owner).
    kept = select(AttachmentFile.sha256).where(AttachmentFile.owner_id == owner_of(person)).scalar_subquery()
    db.execute(update(AttachmentFile).where(AttachmentFile.owner_id == from_owner, AttachmentFile.sha256.not_in(kept))
               .values(owner_id=owner_of(person)))
    db.commit()
    return moved


def usage(db):
    """Every person with their conversations, answers and tokens, most recently seen first:
    [(person, conversations, answers, input tokens, output tokens)]. Answers
    and tokens are the billed calls' (app/storage/billed_calls.py), kept when
    the person deletes or regenerates what they were billed for."""
    conversations = dict(db.execute(
        select(Conversation.owner_id, func.count())
        .where(Conversation.owner_id.startswith(OWNER_PREFIX)).group_by(Conversation.owner_id)
    ).all())
    billed = db.execute(
        select(
            BilledCall.owner_id, func.count(),
            func.coalesce(func.sum(BilledCall.input_tokens), 0),
            func.coalesce(func.sum(BilledCall.output_tokens), 0),
        )
        .where(BilledCall.owner_id.startswith(OWNER_PREFIX)).group_by(BilledCall.owner_id)
    ).all()
    by_owner = {row[0]: tuple(int(n) for n in row[1:]) for row in billed}
    people = db.scalars(select(Person).order_by(Person.seen_at.desc(), Person.id.desc()))
    return [(person, conversations.get(owner_of(person), 0), *by_owner.get(owner_of(person), (0, 0, 0)))
            for person in people]


def remove_person(db, person):
    """Delete `person`, all they keep (app/storage/owner_data.py: their
    conversations with every message, file and shared link) and their
    sign-ins, which ends every session they have at once, in one
    transaction. Returns how many conversations went."""
    removed = delete_owner_content(db, owner_of(person)).conversations
    db.execute(delete(SignIn).where(SignIn.person_id == person.id))
    db.execute(delete(Person).where(Person.id == person.id))
    db.commit()
    return removed
