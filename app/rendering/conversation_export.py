"""A conversation as a file a person takes away: Markdown for one, JSON for all.

Pure functions over loaded conversations and messages (app/storage/export.py
loads them). The JSON file's shape is documented in docs/export.md; it is
written piece by piece, one conversation at a time, so an export of
thousands of conversations is never held whole in memory.
"""

import json
import re
from datetime import datetime, timezone

EXPORT_FORMAT = "chat-export"
EXPORT_VERSION = 1

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
        "title": conversation.title,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "model": conversation.model,
        "instructions": conversation.instructions,
        "messages": [message_record(message) for message in messages],
    }


def export_json_pieces(conversations, exported_at):
    """The export file, piece by piece: `conversations` yields
    (conversation, messages), one at a time."""
    head = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": iso(exported_at)}
    yield json.dumps(head)[:-1] + ', "conversations": ['
    for index, (conversation, messages) in enumerate(conversations):
        yield ("," if index else "") + "\n" + json.dumps(conversation_record(conversation, messages))
    yield "\n]}\n"
