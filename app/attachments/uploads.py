"""Checking files sent with a message against the allow-list and the operator's limits.

The page (multipart form) and the API (multipart files, or JSON
`attachments: [{"name", "mime_type", "data": base64}]`) come through here,
so the same files get the same refusals: 415 for a type not allowed (or
one the offline model cannot read), 413 for one too large or too many.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from app.attachments import images
from app.attachments.kinds import IMAGE, TEXT, described, kind_of


class AttachmentRefused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Upload:
    """One checked file: a shown name (never a path), its Kind, its bytes,
    their SHA-256, and a metadata-free thumbnail for images that have one."""

    name: str
    kind: object
    data: bytes
    sha256: str
    thumbnail: bytes | None = None

    @property
    def size(self):
        return len(self.data)


def max_bytes(config):
    return int(config.attachment_max_mb * 1_000_000)


def shown_name(raw):
    """The name as the page shows it: its last part, printable, at most 200 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    return name[-200:]


def check_upload(config, raw_name, data, offline):
    """An Upload for `data` sent as `raw_name`, or AttachmentRefused."""
    name = shown_name(raw_name)
    kind = kind_of(name)
    if kind is None:
        raise AttachmentRefused(415, f"{name}: that type of file cannot be attached. Allowed: {described(offline)}")
    if offline and not kind.offline_readable:
        raise AttachmentRefused(415, f"{name}: the offline model reads text only; attach text, code or PDF files.")
    if len(data) > max_bytes(config):
        raise AttachmentRefused(413, f"{name} is {len(data) / 1_000_000:,.1f} MB; the limit is "
                                     f"{config.attachment_max_mb:g} MB per file.")
    if not data:
        raise AttachmentRefused(400, f"{name} is empty.")
    thumbnail = None
    if kind.category == IMAGE and kind.pillow_format:
        try:
            thumbnail = images.thumbnail(data, kind.pillow_format)
        except images.NotAnImage as error:
            raise AttachmentRefused(415, f"{name}: {error}") from None
    elif kind.mime_type == "application/pdf" and not data.startswith(b"%PDF-"):
        raise AttachmentRefused(415, f"{name} is not a PDF file.")
    elif kind.category == TEXT:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise AttachmentRefused(415, f"{name} is not UTF-8 text.") from None
    return Upload(name, kind, data, hashlib.sha256(data).hexdigest(), thumbnail)


def check_count(config, count):
    if count > config.attachments_per_message:
        if not config.attachments_per_message:
            raise AttachmentRefused(413, "This server takes no attached files.")
        raise AttachmentRefused(413, f"That is {count} files; a message may carry at most "
                                     f"{config.attachments_per_message}.")


def from_form_files(config, files, offline):
    """Uploads from werkzeug FileStorage objects (a multipart form), skipping
    the empty entry a form sends when no file was chosen."""
    chosen = [file for file in files if file.filename]
    check_count(config, len(chosen))
    limit = max_bytes(config)
    uploads = []
    for file in chosen:
        data = file.stream.read(limit + 1)  # one byte over says "too large" without reading it all
        uploads.append(check_upload(config, file.filename, data, offline))
    return uploads


def declared_type_agrees(declared, kind):
    """A declared type names the same file as the name's (any text type for text)."""
    if kind.category == TEXT:
        return declared.startswith("text/") or declared in ("application/json", "application/xml",
                                                             "application/javascript", "application/octet-stream")
    return declared.lower() in (kind.mime_type, "application/octet-stream")


def decoded(config, name, text):
    """The bytes of base64 `text` sent as `name`, or AttachmentRefused."""
    # base64 is 4/3 of the bytes: a string far too long is refused undecoded.
    if len(text) > (max_bytes(config) + 2) * 4 // 3 + 4:
        raise AttachmentRefused(413, f"{shown_name(name)} is larger than the limit of "
                                     f"{config.attachment_max_mb:g} MB per file.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentRefused(400, f"{shown_name(name)}: data is not base64.") from None


def from_json(config, raw, offline):
    """Uploads from JSON `attachments: [{"name", "mime_type", "data": base64}]`.
    The declared mime_type must agree with the name's (the name decides)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise AttachmentRefused(400, 'attachments must be a list of {"name", "mime_type", "data"} objects.')
    check_count(config, len(raw))
    uploads = []
    for item in raw:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("data"), str)):
            raise AttachmentRefused(400, 'Each attachment needs "name" and "data" (base64) as text.')
        upload = check_upload(config, item["name"], decoded(config, item["name"], item["data"]), offline)
        declared = item.get("mime_type")
        if isinstance(declared, str) and not declared_type_agrees(declared, upload.kind):
            raise AttachmentRefused(415, f"{upload.name}: mime_type {declared!r} does not match the file's name "
                                         f"({upload.kind.mime_type}).")
        uploads.append(upload)
    return uploads
