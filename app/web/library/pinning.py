"""Pin a conversation to the top of the sidebar, or unpin it: a plain form
in each item's menu (templates/_conversation_menu.html), CSRF-checked like
the library's other forms, back to the page it was sent from."""

import re

from flask import current_app, redirect, request, url_for

from app.storage.conversation_pages import set_pinned
from app.storage.engine import session_for
from app.web.library import bp
from app.web.page import owned_conversation

SHOWN_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def back_to(form):
    """The chat page the form was on: its conversation if it still is one of
    the person's (an id, never a URL), else a new chat."""
    shown = form.get("shown", "")
    if SHOWN_ID.fullmatch(shown):
        return url_for("chat.show_conversation", conversation_id=shown)
    return url_for("chat.new_chat")


@bp.post("/c/<conversation_id>/pin")
def pin_conversation(conversation_id):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        set_pinned(db, conversation, request.form.get("pinned") == "1")
    return redirect(back_to(request.form), code=303)
