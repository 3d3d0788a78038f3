"""The owner's side of read-only links: make one for a conversation, list
them, stop one.

Plain forms with the page's CSRF token, answered with a redirect, so they
work without JavaScript; gated like the page when sign-in is on
(app/auth/gate.py). Another owner's conversation or link is a 404, as a
missing one is. Making links is rate-limited (app/web/action_limits.py);
stopping one never is. What a link shows is app/web/shared_page.py.
"""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from app.auth.account import signed_in_person
from app.auth.csrf import guard_forms
from app.auth.people import shown_name
from app.refusals import refusal_response
from app.storage import shares
from app.storage.engine import session_for
from app.web.identity import ensure_browser_owner
from app.web.page import owned_conversation
from app.web import action_limits
from app.web.action_limits import admit_action

bp = Blueprint("shares", __name__)
# Before the CSRF check, which keeps its token in the same session.
bp.before_request(ensure_browser_owner)
guard_forms(bp)

NOTHING_TO_SHARE = "There is nothing to share yet: wait for the first answer to finish, then share."
TOO_MANY_LINKS = (f"This conversation has {shares.MAX_LINKS_PER_CONVERSATION} links already: "
                  "stop sharing one of them to make another.")



def chosen(name):
    return request.form.get(name) in ("1", "on")


@bp.post("/c/<conversation_id>/share")
def share_conversation(conversation_id):
    person = signed_in_person()
    # Only a signed-in person has a name to show; an anonymous browser has none.
    name = shown_name(person) if person is not None and chosen("show_name") else None
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        admit_action(current_app.extensions["limiter"], action_limits.SHARE_LINKS, session["owner"],
                     request.remote_addr)
        try:
            share = shares.create_share(db, conversation, name, chosen("attachments"))
        except shares.NothingToShare:
            return refusal_response(409, NOTHING_TO_SHARE)
        except shares.TooManyLinks:
            return refusal_response(409, TOO_MANY_LINKS)
    # The conversation again, its Share panel open on the new link.
    return redirect(url_for("chat.show_conversation", conversation_id=conversation_id, shared=share.id), code=303)


@bp.post("/shares/<row_id:share_id>/stop")
def stop_sharing(share_id):
    with session_for(current_app) as db:
        conversation_id = shares.stop_share(db, session["owner"], share_id)
    if conversation_id is None:
        abort(404)
    # Back where it was stopped: the list of links, or the conversation.
    if request.form.get("back") == "list":
        return redirect(url_for("shares.shared_links"), code=303)
    url = url_for("chat.show_conversation", conversation_id=conversation_id, shared="stopped")
    return redirect(f"{url}#share", code=303)


@bp.get("/shares")
def shared_links():
    """Everything the owner shares, in the account area."""
    with session_for(current_app) as db:
        links = shares.owner_shares(db, session["owner"])
    return render_template("shares.html", links=links)


@bp.app_template_global()
def conversation_shares(conversation):
    """For the conversation's Share panel: its links, newest first."""
    with session_for(current_app) as db:
        return shares.owner_shares(db, conversation.owner_id, conversation.id)


@bp.app_template_global()
def share_url(share):
    """The link as the owner copies it: absolute, for pasting anywhere."""
    return url_for("shared.shared_conversation", token=share.token, _external=True)
