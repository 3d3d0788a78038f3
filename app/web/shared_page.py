"""A shared conversation, read-only, for anyone with its link
(/s/<token>), signed in or not.

It shows the conversation as it was shared (app/storage/shares.py) and
nothing else of the owner's: no composer, no sidebar, no account, no name
unless they chose to show it, no costs, instructions or request ids. It never
touches the session (a visitor gets no cookie and no owner id) and needs no
JavaScript. Search engines are told not to index it, and no Referer carries
the token to the sites its sources link to. The questions' files, if the owner
chose to include them, are served through the token with the owner's own
safe headers (app/web/attachments.py), never through the owner's routes. An
unknown or stopped link is a 404, however it is spelt.
"""

import re

from flask import Blueprint, abort, current_app, render_template

from app.storage import shares
from app.storage.engine import session_for
from app.web.attachments import file_response, thumbnail_response

bp = Blueprint("shared", __name__)

# What shares.new_token makes (43 characters of base64url): anything else is
# a 404 before it costs a query.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@bp.after_request
def keep_it_unlisted(response):
    # On every response here, a 404 too. Referrer-Policy: the token is in
    # this page's address, and a Referer would hand it to every site it links to.
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _checked(token):
    if not TOKEN.fullmatch(token):
        abort(404)
    return token


@bp.get("/s/<token>")
def shared_conversation(token):
    with session_for(current_app) as db:
        found = shares.shared_conversation(db, _checked(token))
        if found is None:
            abort(404)
        # Rendered while the session is open: the messages' files load with them.
        return render_template("shared.html", share=found.share, conversation=found.conversation,
                               messages=found.messages)


def _shared_file(token, attachment_id):
    with current_app.extensions["db_engine"].connect() as connection:
        found = shares.shared_attachment(connection, _checked(token), attachment_id)
    if found is None:
        abort(404)
    return found


@bp.get("/s/<token>/files/<row_id:attachment_id>")
def shared_file(token, attachment_id):
    return file_response(_shared_file(token, attachment_id))


@bp.get("/s/<token>/files/<row_id:attachment_id>/thumbnail")
def shared_thumbnail(token, attachment_id):
    return thumbnail_response(_shared_file(token, attachment_id))
