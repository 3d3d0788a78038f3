"""The signed-in person's own forms: sign out, and take (or leave for now) the
conversations this browser had before they signed in. POSTs with the page's
CSRF token, behind the gate (gate.py) like the page."""

import logging

from flask import Blueprint, current_app, g, redirect, session, url_for

from app.auth.csrf import guard_forms
from app.auth.people import count_conversations, move_conversations
from app.auth.sessions import ANONYMOUS_OWNER, OFFERED_TO, anonymous_offer_for, end_session
from app.storage.engine import session_for

log = logging.getLogger(__name__)

bp = Blueprint("account", __name__)
guard_forms(bp)

CLAIM_LATER = "claim_later"  # the offer is hidden until the next sign-in
# oauth2-proxy's own: it ends the proxy's session, then signs in again.
PROXY_SIGN_OUT = "/oauth2/sign_out"



@bp.post("/sign-out")
def sign_out():
    with session_for(current_app) as db:
        end_session(db)
    log.info("person %s signed out", g.person.id)
    config = current_app.config["CHAT"]
    if config.auth == "proxy":
        # Only the proxy can end its own sign-in; this browser's session is gone already.
        return redirect(config.auth_sign_out_url or PROXY_SIGN_OUT, code=303)
    return redirect(url_for("sign_in.sign_in_page", signed_out=1), code=303)


@bp.post("/claim")
def claim():
    anonymous = anonymous_offer_for(g.person)
    for key in (ANONYMOUS_OWNER, OFFERED_TO, CLAIM_LATER):
        session.pop(key, None)
    if anonymous:
        with session_for(current_app) as db:
            moved = move_conversations(db, anonymous, g.person)
        log.info("person %s took %d conversation(s) of this browser", g.person.id, moved)
    return redirect(url_for("chat.new_chat"), code=303)


@bp.post("/claim/later")
def claim_later():
    session[CLAIM_LATER] = True
    return redirect(url_for("chat.new_chat"), code=303)


def signed_in_person():
    """For the page: the person signed in (None without sign-in)."""
    return g.get("person")


def claimable_conversations():
    """For the page: how many of this browser's anonymous conversations the
    person is offered (0 when there are none, or the offer was put off)."""
    person = g.get("person")
    anonymous = anonymous_offer_for(person) if person is not None else None
    if not anonymous or session.get(CLAIM_LATER):
        return 0
    with session_for(current_app) as db:
        return count_conversations(db, anonymous)
