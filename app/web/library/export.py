"""Exports, owner-only and always downloads (Content-Disposition: attachment):
one conversation as Markdown, and every conversation as one JSON file,
streamed a batch of conversations at a time (and with `?files=include`
each attached file's bytes, one file at a time)."""

import re
import unicodedata
from urllib.parse import quote

from flask import Response, current_app, request, session, stream_with_context

from app.rendering.conversation_export import conversation_markdown, export_json_pieces
from app.storage.engine import session_for
from app.storage.export import every_conversation, file_reader
from app.storage.models import utcnow
from app.web.library import bp
from app.web.page import owned_conversation

FILENAME_CHARS = 60


def attachment(filename):
    """A Content-Disposition that downloads as `filename` (ASCII kept, the
    rest in RFC 5987's filename*)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.") or "conversation"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def filename_of(title, extension):
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", " ", title)
    name = " ".join(name.split())[:FILENAME_CHARS].strip(" .") or "conversation"
    return f"{name}.{extension}"


@bp.get("/c/<conversation_id>/export.md")
def export_markdown(conversation_id):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        text = conversation_markdown(conversation, list(conversation.messages))
    return Response(text, mimetype="text/markdown", headers={
        "Content-Disposition": attachment(filename_of(conversation.title, "md")),
        "Cache-Control": "no-store",
    })


@bp.get("/export/conversations.json")
def export_everything():
    app = current_app._get_current_object()
    owner_id = session["owner"]
    # The generator reads with sessions of its own: the view's are gone
    # before the body is sent.
    conversations = every_conversation(lambda: session_for(app), owner_id)
    # Files are named (sha256 and size) unless asked for: with their bytes,
    # as base64, an export can be many times larger.
    with_files = request.args.get("files") == "include"
    files = file_reader(lambda: session_for(app), with_files)
    pieces = (piece.encode() for piece in export_json_pieces(conversations, utcnow(), files))
    stamp = utcnow().strftime("%Y-%m-%d")
    name = f"chat-conversations-{stamp}{'-with-files' if with_files else ''}.json"
    return Response(stream_with_context(pieces), mimetype="application/json", headers={
        "Content-Disposition": attachment(name),
        "Cache-Control": "no-store",
    })
