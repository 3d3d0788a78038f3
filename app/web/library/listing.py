"""The sidebar's next pages of conversations ("Load more"): list items for
htmx, or a page of its own for a plain link (without JavaScript)."""

from flask import abort, current_app, render_template, request, session

from app.storage.conversation_pages import Cursor
from app.storage.engine import session_for
from app.web.library import bp
from app.web.library.sidebar import sidebar_page


@bp.get("/conversations")
def more_conversations():
    after = Cursor.parse(request.args.get("after", "")) if request.args.get("after") else None
    if request.args.get("after") and after is None:
        abort(400, "This link to more conversations is not valid: go back to the chat and try again.")
    with session_for(current_app) as db:
        page = sidebar_page(db, session["owner"], after)
        from_htmx = request.headers.get("HX-Request") == "true"
        # htmx focuses the first conversation it brings, where the keyboard was.
        items = [item for _heading, item in page.rows if item is not None]
        focus_item = items[0].id if from_htmx and items else None
        return render_template("_conversation_page.html" if from_htmx else "conversations.html",
                               sidebar=page, more_after=page.more_after, conversation=None, focus_item=focus_item)
