"""One conversation of an export file, checked and turned into what is saved.

The same limits hold as for what is sent here: a question's text as the
page's and the API's (CHAT_MAX_MESSAGE_CHARS), the instructions', files
through the allow-list and checks of app/attachments/uploads.py (with the
count per message and the size per file), and bounds of their own for what
a model wrote (an answer, its thinking, its sources). Nothing in the file
is trusted as HTML: answers are rendered from their text when shown.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from app.attachments.uploads import (
    AttachmentRefused, check_count, check_upload, declared_type_agrees, decoded,
)
from app.config import MAX_INSTRUCTIONS_CHARS
from app.providers.ending import MODALITIES, Usage
from app.providers.grounding import MAX_SOURCES, MAX_TEXT_CHARS, MAX_URI_CHARS, Grounding, Source
from app.storage.answer_endings import BLOCKED, COMPLETE, ERROR, INTERRUPTED, STOPPED, TRUNCATED

# An answer (or its thinking) may be as long as a model's longest output
# (Gemini 2.5: 65,536 tokens, about 260,000 characters), with room to spare.
MAX_ANSWER_CHARS = 500_000
MAX_ERROR_CHARS = 2_000
MAX_TITLE_CHARS = 200
MAX_MODEL_CHARS = 200
MAX_MESSAGES = 10_000
MAX_ORIGIN_CHARS = 64
OUTCOMES = {COMPLETE, TRUNCATED, BLOCKED, ERROR, STOPPED, INTERRUPTED}
# An answer still being written when it was exported is stored as ended there.
STILL_STREAMING = "streaming"
ROLES = ("user", "assistant")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class RecordRefused(ValueError):
    """What is wrong with one conversation, in words (the caller says where)."""


@dataclass(frozen=True)
class ImportedFile:
    """A file as a question carried it: checked bytes (`upload`), or, for
    an export made without files, only what names them (found by `sha256`
    among the importer's own files, or refused)."""

    name: str
    mime_type: str
    size: int
    sha256: str
    upload: object = None  # app/attachments/uploads.Upload


@dataclass(frozen=True)
class ImportedMessage:
    role: str
    content: str
    created_at: datetime
    outcome: str
    error: str
    model: str
    thoughts: str | None
    search: bool
    grounding: Grounding | None
    usage: Usage | None
    files: tuple


@dataclass(frozen=True)
class ImportedConversation:
    origin: str  # what it is known by, wherever it was first exported: the duplicates' test
    title: str
    created_at: datetime
    updated_at: datetime
    model: str | None
    instructions: str | None
    messages: tuple


@dataclass(frozen=True)
class Limits:
    """What this server allows (app/config.py), for `conversation_from`."""

    max_message_chars: int
    models: tuple
    offline: bool
    upload_config: object  # the config app/attachments/uploads.py reads


def _text(record, key, limit, what, optional=False, empty=True):
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise RecordRefused(f"{what} must be text.")
    if len(value) > limit:
        raise RecordRefused(f"{what} is {len(value):,} characters long; the limit is {limit:,}.")
    if not empty and not value.strip():
        raise RecordRefused(f"{what} is empty.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordRefused(f"{what} is not valid Unicode text (it holds a lone surrogate).") from None
    return value.replace("\0", "\ufffd")  # PostgreSQL text holds no NUL


def _time(record, key, what):
    value = record.get(key)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise RecordRefused(f"{what} must be an ISO 8601 time like \"2026-12-07T13:40:00Z\".")
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp


def _sources(record, what):
    raw = record.get("sources", [])
    if not isinstance(raw, list) or len(raw) > MAX_SOURCES:
        raise RecordRefused(f"{what}'s sources must be a list of at most {MAX_SOURCES} {{\"title\", \"uri\"}}.")
    sources = []
    for source in raw:
        if not (isinstance(source, dict) and isinstance(source.get("uri"), str)
                and isinstance(source.get("title", ""), str)):
            raise RecordRefused(f'{what}\'s sources must each be {{"title": text, "uri": text}}.')
        uri, title = source["uri"][:MAX_URI_CHARS], (source.get("title") or "")[:MAX_TEXT_CHARS]
        sources.append(Source(uri=uri, title=title, domain=(urlsplit(uri).hostname or "")[:MAX_TEXT_CHARS]))
    return Grounding(sources=tuple(sources)) if sources else None


def _usage(record, what):
    raw = record.get("usage")
    if raw is None:
        return None
    counts = [raw.get(key) for key in ("input_tokens", "output_tokens", "reasoning_tokens")] \
        if isinstance(raw, dict) else [None]
    if not all(count is None or (isinstance(count, int) and not isinstance(count, bool) and 0 <= count < 2**31)
               for count in counts) or counts[0] is None:
        raise RecordRefused(f"{what}'s usage must be null or whole numbers of tokens.")
    by_modality = raw.get("input_tokens_by_modality") or {}
    if not isinstance(by_modality, dict) or not all(
            name in MODALITIES and isinstance(count, int) and not isinstance(count, bool) and 0 <= count < 2**31
            for name, count in by_modality.items()):
        raise RecordRefused(f"{what}'s input_tokens_by_modality must be null or whole numbers of tokens "
                            f"named {', '.join(MODALITIES)}.")
    return Usage(counts[0], counts[1] or 0, counts[2], tuple(by_modality.items()))


def _file(item, limits, what):
    if not isinstance(item, dict):
        raise RecordRefused(f'{what}\'s attachments must be {{"name", "mime_type", "size", "sha256"}} objects.')
    name = _text(item, "name", 255, f"{what}'s attachment name", empty=False)
    mime_type = _text(item, "mime_type", 100, f"{name}'s mime_type")
    sha256, size = item.get("sha256"), item.get("size")
    if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise RecordRefused(f"{name}'s sha256 must be 64 lower-case hex digits.")
    if not (isinstance(size, int) and not isinstance(size, bool) and size > 0):
        raise RecordRefused(f"{name}'s size must be a whole number of bytes.")
    data = item.get("data")
    if data is None:
        return ImportedFile(name, mime_type, size, sha256)
    config = limits.upload_config
    try:
        if not isinstance(data, str):
            raise AttachmentRefused(400, f"{name}: data must be base64 text.")
        upload = check_upload(config, name, decoded(config, name, data), limits.offline)
        if not declared_type_agrees(mime_type, upload.kind):
            raise AttachmentRefused(415, f"{name}: mime_type {mime_type!r} does not match the file's name.")
    except AttachmentRefused as error:
        raise RecordRefused(error.message) from None
    if upload.sha256 != sha256 or upload.size != size:
        raise RecordRefused(f"{name}: its bytes do not match its sha256 and size (the file was changed or cut).")
    return ImportedFile(upload.name, upload.kind.mime_type, upload.size, sha256, upload)


def _files(record, role, limits, what):
    raw = record.get("attachments", [])
    if not isinstance(raw, list):
        raise RecordRefused(f"{what}'s attachments must be a list.")
    if raw and role != "user":
        raise RecordRefused(f"{what} is an answer; only questions carry files.")
    try:
        check_count(limits.upload_config, len(raw))
    except AttachmentRefused as error:
        raise RecordRefused(f"{what}: {error.message}") from None
    return tuple(_file(item, limits, what) for item in raw)


def _message(record, number, limits):
    what = f"message {number}"
    if not isinstance(record, dict):
        raise RecordRefused(f"{what} must be an object.")
    role = record.get("role")
    if role not in ROLES:
        raise RecordRefused(f'{what}\'s role must be "user" or "assistant".')
    files = _files(record, role, limits, what)
    if role == "user":
        content = _text(record, "content", limits.max_message_chars, f"{what} (a question)", empty=bool(files))
    else:
        content = _text(record, "content", MAX_ANSWER_CHARS, f"{what} (an answer)")
    outcome = record.get("outcome", COMPLETE)
    if outcome == STILL_STREAMING:
        outcome = INTERRUPTED
    if outcome not in OUTCOMES:
        raise RecordRefused(f"{what}'s outcome must be one of: {', '.join(sorted(OUTCOMES))}.")
    search = record.get("search", False)
    if not isinstance(search, bool):
        raise RecordRefused(f"{what}'s search must be true or false.")
    return ImportedMessage(
        role=role, content=content, created_at=_time(record, "created_at", f"{what}'s created_at"),
        outcome=outcome, error=_text(record, "error", MAX_ERROR_CHARS, f"{what}'s error", optional=True) or "",
        model=_text(record, "model", MAX_MODEL_CHARS, f"{what}'s model", optional=True) or "",
        thoughts=_text(record, "thoughts", MAX_ANSWER_CHARS, f"{what}'s thoughts", optional=True) or None,
        search=search, grounding=_sources(record, what), usage=_usage(record, what), files=files,
    )


def conversation_from(record, limits):
    """An ImportedConversation from one record of the file, or RecordRefused."""
    if not isinstance(record, dict):
        raise RecordRefused("a conversation must be an object.")
    origin = record.get("origin") or record.get("id")
    if not isinstance(origin, str) or not origin.strip() or len(origin) > MAX_ORIGIN_CHARS:
        raise RecordRefused(f"its id must be text of at most {MAX_ORIGIN_CHARS} characters.")
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages or len(messages) > MAX_MESSAGES:
        raise RecordRefused(f"its messages must be a list of 1 to {MAX_MESSAGES:,} messages.")
    title = " ".join(_text(record, "title", MAX_TITLE_CHARS, "its title").split()) or "Imported chat"
    model = _text(record, "model", MAX_MODEL_CHARS, "its model", optional=True)
    instructions = _text(record, "instructions", MAX_INSTRUCTIONS_CHARS, "its instructions", optional=True)
    return ImportedConversation(
        origin=origin, title=title,
        created_at=_time(record, "created_at", "its created_at"),
        updated_at=_time(record, "updated_at", "its updated_at"),
        # A model this server does not offer: its answers ask for the server's first.
        model=model if model in limits.models else None,
        instructions=instructions.strip() or None if instructions else None,
        messages=tuple(_message(message, number, limits) for number, message in enumerate(messages, 1)),
    )
