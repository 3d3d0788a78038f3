"""A conversation as a file a person takes away: Markdown for one, JSON for all.

Pure functions over loaded conversations and messages (app/storage/export.py
loads them). The JSON file's shape is documented in docs/export.md; it is
written piece by piece, one conversation at a time, so an export of
thousands of conversations is never held whole in memory.
"""

import base64
import json
import re
from datetime import datetime, timezone

EXPORT_FORMAT = "chat-export"
EXPORT_VERSION = 1
# A piece this long (a file's bytes) is written on its own, not joined to its conversation's.
FLUSH_CHARS = 64 * 1024

ENDINGS = {
    "truncated": "The answer was cut off (it reached its length limit).",
    "blocked": "The answer was blocked.",
    "error": "The answer failed.",
    "stopped": "The answer was stopped.",
    "interrupted": "The answer was interrupted.",
    "streaming": "The answer was still being written when this was exported.",
}


def iso(value):
    """A stored (naive UTC) time as ISO 8601 with its zone."""
    return value.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z") if value else None


# --- Markdown ----------------------------------------------------------------

_LINK_TEXT_SPECIALS = re.compile(r"([\\\[\]*_`<>])")


def _link_text(text):
    return _LINK_TEXT_SPECIALS.sub(r"\\\1", " ".join(text.split())) or "source"


def _link_target(uri):
    # In <...>, a target may hold anything but a line break, < and >.
    return "<" + re.sub(r"[\s<>]", lambda found: "%{:02X}".format(ord(found.group())), uri) + ">"


def _quoted(text):
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines())


def _attachment_lines(links):
    """A question's files, named (the file itself is not in a Markdown export)."""
    if not links:
        return []
    return ["", "**Attached:**", ""] + [
        f"- {_link_text(link.name)} ({link.mime_type}, {_size(link.size)})" for link in links
    ]


def _size(count):
    return f"{count:,} bytes" if count < 1000 else f"{count / 1000:,.1f} kB" if count < 1_000_000 \
        else f"{count / 1_000_000:,.1f} MB"


def conversation_markdown(conversation, messages):
    """One conversation as Markdown: each question and answer, an answer's
    thinking as a quote, its sources as links."""
    lines = [f"# {' '.join(conversation.title.split())}", ""]
    lines.append(f"Exported from Chat on {iso(datetime.now(timezone.utc).replace(tzinfo=None))}; "
                 f"started {iso(conversation.created_at)}.")
    if conversation.instructions:
        lines += ["", "**Instructions:**", "", _quoted(conversation.instructions)]
    for message in messages:
        lines += ["", "---", ""]
        if message.role == "user":
            lines += ["## Question", "", message.content]
            lines += _attachment_lines(message.attachments)
            continue
        lines += [f"## Answer{f' ({message.model})' if message.model else ''}", ""]
        if message.thoughts:
            lines += ["> **Thinking**", ">", _quoted(message.thoughts), ""]
        if message.content:
            lines.append(message.content)
        sources = message.sources
        links = [source for source in (sources.sources if sources else ()) if source.is_link]
        if links:
            lines += ["", "**Sources:**", ""]
            lines += [f"{n}. [{_link_text(s.title or s.domain or s.uri)}]({_link_target(s.uri)})"
                      for n, s in enumerate(links, 1)]
        if message.outcome in ENDINGS:
            ending = ENDINGS[message.outcome] + (f" {message.error}" if message.error else "")
            lines += ["", f"_{ending}_"]
    return "\n".join(lines) + "\n"


# --- JSON --------------------------------------------------------------------

def attachment_record(link, sha256):
    """A file as a question carried it, without its bytes."""
    return {"name": link.name, "mime_type": link.mime_type, "size": link.size, "sha256": sha256}


def message_record(message):
    grounding = message.sources
    usage = message.usage
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "created_at": iso(message.created_at),
        "outcome": message.outcome,
        "error": message.error or None,
        "model": message.model or None,
        "thoughts": message.thoughts or None,
        "search": bool(message.search),
        "sources": [{"title": s.title, "uri": s.uri} for s in grounding.sources] if grounding else [],
        "usage": usage.as_dict() if usage else None,
    }


def conversation_record(conversation, messages):
    return {
        "id": conversation.id,
        # Where it was first exported from: an import knows it by this.
        "origin": conversation.imported_from or conversation.id,
        "title": conversation.title,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "model": conversation.model,
        "instructions": conversation.instructions,
        "messages": [message_record(message) for message in messages],
    }


def _message_pieces(message, files):
    """One message, its files last; each file's bytes (base64) read and
    written one at a time when `files` gives them."""
    record = json.dumps(message_record(message))
    if not message.attachments:
        yield record[:-1] + ', "attachments": []}'
        return
    yield record[:-1] + ', "attachments": ['
    for index, link in enumerate(message.attachments):
        sha256, data = files(link)
        item = json.dumps(attachment_record(link, sha256))
        if data is not None:
            item = item[:-1] + ', "data": "' + base64.b64encode(data).decode("ascii") + '"}'
        yield ("," if index else "") + item
    yield "]}"


def export_json_pieces(conversations, exported_at, files):
    """The export file, piece by piece: `conversations` yields
    (conversation, messages), one at a time; `files(link)` gives an attached
    file's (sha256, bytes or None: named only). A conversation is one piece,
    but for its files' bytes, each a piece of its own."""
    head = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": iso(exported_at)}
    yield json.dumps(head)[:-1] + ', "conversations": ['
    for index, (conversation, messages) in enumerate(conversations):
        record = json.dumps({**conversation_record(conversation, []), "messages": None})
        pending = [("," if index else "") + "\n" + record[:-len("null}")] + "["]
        for number, message in enumerate(messages):
            if number:
                pending.append(",")
            for piece in _message_pieces(message, files):
                if len(piece) > FLUSH_CHARS:
                    yield "".join(pending)
                    pending = []
                pending.append(piece)
        pending.append("]}")
        yield "".join(pending)
    yield "\n]}\n"
