"""Before any page request (CHAT_AUTH=oidc or proxy): who the person is, and
their owner id in the session, where the page's views find their owner.

The page's views read `session["owner"]` in every mode, so they never branch
on the mode: here it becomes the signed-in person's owner, looked up on every
request (so that a sign-out or a removal ends it at once). A browser's
anonymous owner from before is kept aside for the claim offer (account.py).
"""

from flask import current_app, g, redirect, request, session, url_for

from app.auth.allow_lists import is_allowed, no_longer_allowed_message, not_allowed_message
from app.auth.people import owner_of, shown_name
from app.auth.proxy import person_from_proxy
from app.auth.sessions import anonymous_offer, end_session, keep_anonymous_offer, signed_in_person
from app.operations import log_context
from app.refusals import refusal_response
from app.storage.engine import session_for

# The page, its search, paging and exports, its attached files, the links it
# shares, and the signed-in person's own forms (claims, sign-out). Not a
# shared link itself (app/web/shared_page.py): anyone who has one may read it.
GATED_BLUEPRINTS = frozenset({"chat", "library", "attachments", "shares", "account"})

SIGNED_OUT = "You are not signed in (or your session ended), so nothing was done. Reload the page to sign in."
NO_PROXY_PERSON = (
    "This chat is for the people its sign-in proxy lets through, and this request came without one: "
    "it did not pass through the proxy, or the proxy did not say who you are ({header}). "
    "Open the chat at its usual address; if this goes on, tell its operator."
)


def current_person(config):
    with session_for(current_app) as db:
        if config.auth == "proxy":
            return person_from_proxy(db, config)
        return signed_in_person(db)


def require_person():
    if request.blueprint not in GATED_BLUEPRINTS:
        return None
    config = current_app.config["CHAT"]
    person = current_person(config)
    if person is None:
        return sign_in_needed(config)
    # On every request, not only at sign-in: a person the operator has since
    # taken off the allow-lists is turned away at once (the lists are in memory).
    if not is_allowed(person.email, config):
        return not_allowed(config, person)
    g.person = person
    owner = owner_of(person)
    if session.get("owner") != owner:
        # The first request behind the proxy (a sign-in with a provider sets
        # the owner itself), or another person the proxy signed in on this
        # browser: the browser's anonymous owner is kept for the first one's offer.
        anonymous, offered_to = anonymous_offer()
        session["owner"] = owner
        keep_anonymous_offer(person, anonymous, offered_to)
        session.permanent = True
    log_context.bind(owner=log_context.owner_hash(owner))
    return None


def not_allowed(config, person):
    if config.auth == "proxy":
        return refusal_response(403, not_allowed_message(shown_name(person)), heading="Not allowed here")
    # Signed in with the provider before the lists changed: that sign-in ends here.
    with session_for(current_app) as db:
        end_session(db)
    message = no_longer_allowed_message(person.email or shown_name(person))
    if request.method == "GET" and request.headers.get("HX-Request") != "true":
        from app.auth.oidc import sign_in_page_for

        return sign_in_page_for(request.full_path.rstrip("?"), notice=message), 403
    return refusal_response(403, message, heading="Not allowed here")


def sign_in_needed(config):
    if config.auth == "proxy":
        return refusal_response(401, NO_PROXY_PERSON.format(header=config.auth_header), heading="Not signed in")
    # A person opening a page goes to sign in and comes back to it; a
    # request of the page's own (htmx, a stream, a form) is told why.
    if request.method == "GET" and request.headers.get("HX-Request") != "true":
        return redirect(url_for("sign_in.sign_in_page", next=request.full_path.rstrip("?")), code=303)
    return refusal_response(401, SIGNED_OUT, heading="Not signed in")
