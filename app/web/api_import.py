"""`POST /api/import`: an export file (docs/export.md) imported for the
caller's API key (or the person it is tied to), as the page's Your data
imports one.

The body is the file itself (`Content-Type: application/json`), or a
multipart form with it as `file`; at most CHAT_IMPORT_MAX_MB. Answers
`{"imported": n, "already_here": m}` (201 if anything was added, else
200), or `{"error": "..."}` with nothing imported: 400 for a bad file
(the sentence says which line and conversation), 413 for one too large or
over the storage allowance, 429 past the imports an hour.
"""

from flask import current_app, jsonify, request

from app.portability.importing import ImportRefused
from app.refusals import refusal_response
from app.web.action_limits import IMPORTS, admit_action
from app.web.api import bp
from app.web.identity import api_key_owner
from app.web.import_input import import_for

NO_FILE = ('Send the export file as the body (Content-Type: application/json), or as the multipart field "file".')


@bp.post("/import")
def import_conversations():
    owner = api_key_owner()
    if request.mimetype == "multipart/form-data":
        chosen = request.files.get("file")
        stream = chosen.stream if chosen is not None else None
    elif request.is_json:
        stream = request.stream
    else:
        stream = None
    if stream is None:
        return refusal_response(400, NO_FILE)
    admit_action(current_app.extensions["limiter"], IMPORTS, owner, request.remote_addr)
    try:
        result = import_for(owner, stream)
    except ImportRefused as error:
        return refusal_response(error.status, f"{error.message} Nothing was imported.")
    return jsonify(imported=result.added, already_here=result.already_here), 201 if result.added else 200
