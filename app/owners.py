"""Who owns a conversation: an anonymous browser, or a program's API key."""

import hashlib
import secrets

from flask import g, session


def ensure_browser_owner():
    # Each browser owns its conversations through an anonymous id kept in
    # Flask's signed session cookie.
    if "owner" not in session:
        session["owner"] = secrets.token_urlsafe(18)
        session.permanent = True


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
