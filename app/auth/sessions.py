"""A browser's sign-in (CHAT_AUTH=oidc): a random token in Flask's signed
session cookie, whose SHA-256 names a row of `sign_ins`.

The cookie alone is not enough: every request looks its sign-in up, so
signing out (which deletes the row) or removing the person (which deletes
all of theirs) ends it at once, for every copy of the cookie. Signing in
rotates the session: nothing the browser held before (a planted cookie,
Authlib's state, the old CSRF token) survives into the signed-in one.
"""

import hashlib
import secrets

from flask import current_app, session
from sqlalchemy import delete, select, update

from app.auth.people import is_anonymous_owner, owner_of
from app.storage.models import Person, SignIn, utcnow

SIGN_IN = "sign_in"
# A browser's anonymous owner from before its first sign-in: its
# conversations are offered to the person (app/auth/account.py).
ANONYMOUS_OWNER = "anonymous_owner"
# The id of the person that offer is for: the first to sign in on the
# browser. Whoever signs in there after them (a shared computer) is not
# offered what the browser did before, and the browser forgets it.
OFFERED_TO = "anonymous_offered_to"
# The same daily precision as people's seen_at (app/auth/people.py).
SEEN_AT_PRECISION = 86400


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def anonymous_offer():
    """This browser's anonymous owner and the person whose offer it is:
    (owner, None) before anyone signed in here, (owner, person id) once
    someone did, (None, None) when there is nothing to offer. A kept owner
    that names nobody (a session from before offers had a person) is nobody's."""
    if ANONYMOUS_OWNER in session:
        owner, offered_to = session[ANONYMOUS_OWNER], session.get(OFFERED_TO)
        return (owner, offered_to) if is_anonymous_owner(owner) and offered_to is not None else (None, None)
    owner = session.get("owner")
    return (owner, None) if is_anonymous_owner(owner) else (None, None)


def start_signed_in_session(db, person):
    """Rotate the session into `person`'s: a new cookie with a new sign-in
    token and a new CSRF token, keeping only the browser's anonymous owner
    (for `person` if they are the first to sign in here)."""
    anonymous, offered_to = anonymous_offer()
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Sign-ins nobody used for longer than a session lives go (there is no other sweeper).
    db.execute(delete(SignIn).where(SignIn.seen_at < now - current_app.permanent_session_lifetime))
    db.add(SignIn(id=_digest(token), person_id=person.id, created_at=now, seen_at=now))
    db.commit()
    session[SIGN_IN] = token
    session["owner"] = owner_of(person)
    keep_anonymous_offer(person, anonymous, offered_to)
    session.permanent = True


def keep_anonymous_offer(person, anonymous, offered_to):
    """Offer this browser's anonymous conversations to `person` if nobody
    else signed in here before them; else forget the browser's anonymous
    owner, which was offered to that first person alone."""
    if anonymous and offered_to in (None, person.id):
        session[ANONYMOUS_OWNER], session[OFFERED_TO] = anonymous, person.id
    else:
        session.pop(ANONYMOUS_OWNER, None)
        session.pop(OFFERED_TO, None)


def anonymous_offer_for(person):
    """The anonymous owner whose conversations `person` is offered, or None."""
    if session.get(OFFERED_TO) != person.id:
        return None
    return session.get(ANONYMOUS_OWNER)


def signed_in_person(db):
    """The person this browser signed in as, or None (never signed in, signed
    out, removed, or unused for longer than a session lives)."""
    token = session.get(SIGN_IN)
    if not isinstance(token, str):
        return None
    digest = _digest(token)
    found = db.execute(
        select(Person, SignIn.seen_at).join(SignIn, SignIn.person_id == Person.id).where(SignIn.id == digest)
    ).first()
    if found is None:
        return None
    person, seen_at = found
    idle = (utcnow() - seen_at).total_seconds()
    if idle > current_app.permanent_session_lifetime.total_seconds():
        db.execute(delete(SignIn).where(SignIn.id == digest))
        db.commit()
        return None
    if idle > SEEN_AT_PRECISION:
        db.execute(update(SignIn).where(SignIn.id == digest).values(seen_at=utcnow()))
        db.commit()
    return person


def end_session(db):
    """Sign out: the sign-in is deleted and the session emptied. The browser
    keeps its anonymous owner if it still has one, so that the person it is
    offered to can still take that browser's conversations at a later sign-in."""
    token = session.get(SIGN_IN)
    if isinstance(token, str):
        db.execute(delete(SignIn).where(SignIn.id == _digest(token)))
        db.commit()
    anonymous, offered_to = anonymous_offer()
    session.clear()
    if anonymous and offered_to is not None:
        session[ANONYMOUS_OWNER], session[OFFERED_TO] = anonymous, offered_to
