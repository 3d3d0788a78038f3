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
# The same daily precision as people's seen_at (app/auth/people.py).
SEEN_AT_PRECISION = 86400


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def browser_anonymous_owner():
    """This browser's anonymous owner, whether still in use or kept for the offer."""
    owner = session.get(ANONYMOUS_OWNER) or session.get("owner")
    return owner if is_anonymous_owner(owner) else None


def start_signed_in_session(db, person):
    """Rotate the session into `person`'s: a new cookie with a new sign-in
    token and a new CSRF token, keeping only the browser's anonymous owner."""
    anonymous = browser_anonymous_owner()
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # Sign-ins nobody used for longer than a session lives go (there is no other sweeper).
    db.execute(delete(SignIn).where(SignIn.seen_at < now - current_app.permanent_session_lifetime))
    db.add(SignIn(id=_digest(token), person_id=person.id, created_at=now, seen_at=now))
    db.commit()
    session[SIGN_IN] = token
    session["owner"] = owner_of(person)
    if anonymous:
        session[ANONYMOUS_OWNER] = anonymous
    session.permanent = True


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
    keeps its anonymous owner if it still has one, so a later sign-in here
    can still be offered that browser's conversations."""
    token = session.get(SIGN_IN)
    if isinstance(token, str):
        db.execute(delete(SignIn).where(SignIn.id == _digest(token)))
        db.commit()
    anonymous = browser_anonymous_owner()
    session.clear()
    if anonymous:
        session[ANONYMOUS_OWNER] = anonymous
