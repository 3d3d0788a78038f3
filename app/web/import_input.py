"""An export file sent back to be imported: the body it may take, and the
import run in one transaction for the owner asking (the page's Your data
and `POST /api/import` both come through here).

The import routes are the only ones that take a body of CHAT_IMPORT_MAX_MB
(the app's usual is a message's room); a longer one is refused by its length
before it is read. The file is read from the request as it is parsed
(a form's file is spooled to disk by Werkzeug), a conversation at a time.
"""

from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from app.portability.import_records import Limits
from app.portability.importing import ImportRefused, import_export
from app.refusals import Refused
from app.storage.engine import session_for
from app.web.attachment_input import offline

# A form's fields beside the file (its CSRF token, the multipart framing).
FORM_ROOM_BYTES = 64 * 1024
# The endpoints whose body is an export file.
TAKES_EXPORTS = {"library.import_file", "api.import_conversations"}
AT_THE_SAME_TIME = ("These conversations were being imported by another request at the same time, so nothing "
                    "was imported by this one. Import the file again to add anything still missing.")


def import_limit(config):
    return int(config.import_max_mb * 1_000_000)


def allow_import_bodies():
    """Before anything reads the body: the import routes take an export file."""
    if request.endpoint not in TAKES_EXPORTS:
        return
    config = current_app.config["CHAT"]
    limit = import_limit(config) + FORM_ROOM_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"That file is {request.content_length / 1_000_000:,.1f} MB; this server imports "
                           f"files of at most {config.import_max_mb:g} MB. Nothing was imported.")
    request.max_content_length = limit


def import_for(owner, stream):
    """Import the export in binary `stream` as `owner`'s, all or nothing:
    an ImportResult, or ImportRefused with nothing saved."""
    config = current_app.config["CHAT"]
    limits = Limits(max_message_chars=config.max_message_chars, models=tuple(current_app.extensions["models"].names),
                    offline=offline(config), upload_config=config)
    with session_for(current_app) as db:
        try:
            result = import_export(db, owner, stream, limits, int(config.storage_per_person_mb * 1_000_000))
            db.commit()
        except ImportRefused:
            db.rollback()
            raise
        except IntegrityError:  # the same conversations saved by a request at the same time
            db.rollback()
            raise ImportRefused(409, AT_THE_SAME_TIME) from None
    return result
