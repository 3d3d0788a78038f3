"""Who owns a conversation: an anonymous browser, or a program's API key (or
the person it is tied to: app/auth/api_keys.py). With sign-in (CHAT_AUTH),
app/auth/gate.py has put the signed-in person's owner in the session before
this runs."""

import secrets
import time

from flask import current_app, g, request, session

from app.operations import log_context
from app.refusals import Refused
from app.web.cross_site import SAFE_METHODS

SECONDS_PER_DAY = 86400

NO_SESSION = (
    "Your browser did not send this site's cookie, so nothing was done. "
    "Reload the page and try again (cookies must be allowed for this site)."
)


def ensure_browser_owner():
    # Each browser owns its conversations through an anonymous id kept in
    # Flask's signed session cookie. It is given only on a GET: a POST
    # without the cookie (a cross-site form sends none) must not answer with
    # a new one, which would replace the visitor's and orphan every
    # conversation they have.
    if "owner" not in session:
        if request.method not in SAFE_METHODS:
            raise Refused(403, NO_SESSION)
        current_app.extensions["limiter"].admit_new_owner(request.remote_addr)
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
    log_context.bind(owner=log_context.owner_hash(session["owner"]))


def use_api_key_owner(owner):
    """Conversations started with an API key belong to its owner: the key's
    own (app/auth/api_keys.py's `key_owner`), or the person it is tied to, on whose page they show."""
    g.owner = owner
    log_context.bind(owner=log_context.owner_hash(owner))


NEEDS_API_KEY = (
    "Stored conversations on the API need an API key, and this server has none: the operator sets "
    "CHAT_API_KEYS and you send Authorization: Bearer <key>. Without one, send your own \"history\"."
)


def api_key_owner():
    """The owner of the caller's API key. The API never takes the page's
    cookie as a credential: a browser sends it to any site's form."""
    if not g.get("owner"):
        raise Refused(403, NEEDS_API_KEY)
    return g.owner
