"""Who owns a conversation: an anonymous browser, or a program's API key."""

import hashlib
import secrets
import time

from flask import g, session


SECONDS_PER_DAY = 86400


def ensure_browser_owner():
    # Each browser owns its conversations through an anonymous id kept in
    # Flask's signed session cookie.
    if "owner" not in session:
        session["owner"] = secrets.token_urlsafe(18)
        session.permanent = True
    # The cookie expires PERMANENT_SESSION_LIFETIME (31 days) after it was
    # last sent. Flask would re-sign and resend it on every response; the app
    # turns that off (SESSION_REFRESH_EACH_REQUEST) and renews it on the first
    # request of each day instead, so a browser in use never loses its
    # conversations and a message does not pay for a signature (docs/benchmarks.md).
    today = int(time.time() // SECONDS_PER_DAY)
    if session.get("renewed") != today:
        session["renewed"] = today


def key_digest(key):
    """An API key's SHA-256: what is compared, and what names its owner."""
    return hashlib.sha256(key.encode()).digest()


def use_api_key_owner(digest):
    """Conversations started with an API key (given by its `key_digest`)
    belong to that key, not to a cookie."""
    g.owner = "key:" + digest.hex()[:32]


def current_owner():
    """The API key's owner, or else the browser's (given one now if it has none).

    The API sets no cookie until it stores a conversation: a program that
    sends its own history never needs one."""
    if g.get("owner"):
        return g.owner
    ensure_browser_owner()
    return session["owner"]
