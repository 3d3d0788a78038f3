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


def use_api_key_owner(key):
    """Conversations started with an API key belong to that key, not to a cookie."""
    g.owner = "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def current_owner():
    """The API key's owner, or else the browser's (given one now if it has none).

    The API sets no cookie until it stores a conversation: a program that
    sends its own history never needs one."""
    if g.get("owner"):
        return g.owner
    ensure_browser_owner()
    return session["owner"]
