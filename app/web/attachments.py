"""Serving attached files to their owner, and nobody else.

The type a file is served as comes from the server's allow-list
(app/attachments/kinds.py), never from the upload; `nosniff` keeps the
browser from guessing another. Only raster images are shown inline, and an
image is served re-encoded from its pixels (no EXIF, no GPS position);
everything else is a download (`Content-Disposition: attachment`), so an
HTML or SVG file can never run as a page of this site. A sandboxing CSP
covers whatever a browser does anyway. The name a file was sent with is
only ever a header's quoted filename, never a path.
"""

from flask import Blueprint, Response, abort, current_app, session

from app.attachments import images
from app.attachments.kinds import kind_for
from app.storage import attachment_store
from app.web.attachment_input import offline as reads_text_only
from app.web.identity import ensure_browser_owner

bp = Blueprint("attachments", __name__)
bp.before_request(ensure_browser_owner)

SANDBOX_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
SERVED_HEADERS = {
    "Content-Security-Policy": SANDBOX_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _owned(attachment_id):
    with current_app.extensions["db_engine"].connect() as connection:
        found = attachment_store.owned_attachment(connection, session["owner"], attachment_id)
    if found is None:
        abort(404)
    return found


def _served(data, mime_type, name, inline):
    response = Response(data, mimetype=mime_type, headers=SERVED_HEADERS)
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", filename=name)
    return response


@bp.get("/attachments/<row_id:attachment_id>")
def attachment(attachment_id):
    return file_response(_owned(attachment_id))


@bp.get("/attachments/<row_id:attachment_id>/thumbnail")
def thumbnail(attachment_id):
    return thumbnail_response(_owned(attachment_id))


def file_response(found):
    """A raster image at full size (metadata-free), anything else as a
    download. `found`: the attachment's row, once whoever asks may have it
    (its owner here; anyone with a link that shows it: app/web/shared_page.py)."""
    kind = kind_for(found.mime_type)
    with current_app.extensions["db_engine"].connect() as connection:
        data = attachment_store.file_bytes(connection, found.file_id)
    if kind is not None and kind.shown_inline:
        try:
            clean = images.metadata_free(data, kind.pillow_format)
        except images.NotAnImage:
            abort(404)
        return _served(clean, images.encoded_type(clean), found.name, inline=True)
    mime_type = kind.mime_type if kind is not None else "application/octet-stream"
    return _served(data, mime_type, found.name, inline=False)


def thumbnail_response(found):
    if not found.has_thumbnail:
        abort(404)
    with current_app.extensions["db_engine"].connect() as connection:
        data = attachment_store.file_bytes(connection, found.file_id, thumbnail=True)
    if data is None:
        abort(404)
    return _served(data, images.encoded_type(data), f"thumbnail-{found.name}", inline=True)


@bp.app_context_processor
def attachment_settings():
    """What the composer's file input offers: the types this model reads, and the limits."""
    from app.attachments.kinds import accept_list, described

    config = current_app.config["CHAT"]
    offline = reads_text_only(config)
    return {
        "attachment_accept": accept_list(offline), "attachment_hint": described(offline),
        "attachment_max_bytes": int(config.attachment_max_mb * 1_000_000),
        "attachment_max_mb": config.attachment_max_mb, "attachments_per_message": config.attachments_per_message,
    }


@bp.app_template_filter()
def file_size(count):
    """A size as people read it: 512 bytes, 34 KB, 4.2 MB."""
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1000:.0f} KB"
    return f"{count / 1_000_000:.1f} MB"
