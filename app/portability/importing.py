"""Importing an export file: every conversation in it checked and saved for
the importer, in the caller's one transaction, or a refusal saying where.

A conversation the importer already has (the same `origin`, made here or
imported before) is counted and skipped, so importing a file twice adds
nothing the second time. Nothing is committed here: the caller commits once
the whole file has been read, and rolls back on ImportRefused, so a bad
file leaves nothing half-imported.
"""

from dataclasses import dataclass

from app.portability.export_reader import NotAnExport, read_export
from app.portability.import_records import RecordRefused, conversation_from
from app.rendering.conversation_export import EXPORT_FORMAT, EXPORT_VERSION
from app.storage.imports import MissingFile, already_here, save_imported
from app.storage.storage_use import used_bytes


class ImportRefused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_here: int


def _check_head(head):
    if head.get("format") != EXPORT_FORMAT:
        raise ImportRefused(400, f'This is not a chat export: its "format" must be "{EXPORT_FORMAT}" '
                                 '(and come before its "conversations").')
    if head.get("version") != EXPORT_VERSION:
        raise ImportRefused(400, f"This export's version is {head.get('version')!r}; this server reads "
                                 f"version {EXPORT_VERSION}.")


def _megabytes(count):
    return f"{count / 1_000_000:,.1f}" if count >= 100_000 else f"{count / 1_000_000:,.3f}"


def import_export(db, owner_id, stream, limits, allowed_bytes):
    """Read the export in binary `stream` and save its conversations as
    `owner_id`'s on session `db` (not committed). `limits`: the server's
    (import_records.Limits); `allowed_bytes`: what one person may keep (0:
    no limit). ImportResult, or ImportRefused (the caller rolls back)."""
    added = skipped = number = 0
    seen = set()
    try:
        for event in read_export(stream):
            if event[0] == "head":
                _check_head(event[1])
                continue
            _, line, record = event
            number += 1
            where = f"Line {line}, conversation {number}"
            try:
                imported = conversation_from(record, limits)
            except RecordRefused as error:
                raise ImportRefused(400, f"{where}: {error}") from None
            if imported.origin in seen or already_here(db, owner_id, imported.origin):
                skipped += 1
                continue
            seen.add(imported.origin)
            try:
                save_imported(db, owner_id, imported)
            except MissingFile as error:
                raise ImportRefused(400, f"{where}: the file {error} was exported without its bytes, and you have "
                                         "no copy of it here. Export again with files included.") from None
            added += 1
    except NotAnExport as error:
        raise ImportRefused(400, str(error)) from None
    if added and allowed_bytes:
        used = used_bytes(db.connection(), owner_id)
        if used > allowed_bytes:
            raise ImportRefused(413, f"With these conversations yours would take {_megabytes(used)} MB, and this "
                                     f"server keeps at most {_megabytes(allowed_bytes)} MB for each person. "
                                     "Nothing was imported.")
    return ImportResult(added, skipped)
