"""A standard SSE decoder (the WHATWG algorithm), to read streams as a browser would."""

import re


def decode_events(text):
    """Events as dicts {"event", "data", "id"}; comments are dropped."""
    events, data, event, event_id = [], [], "", None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data:
                events.append({"event": event or "message", "data": "\n".join(data), "id": event_id})
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        elif field == "id":
            event_id = value
    return events


def comments(text):
    return [line for line in re.split(r"\r\n|\r|\n", text) if line.startswith(":")]


def heartbeats(text):
    """The page stream's heartbeats: named events the page's script can hear
    (app/rendering/page_events.py), where the programs' streams send comments."""
    return [line for line in re.split(r"\r\n|\r|\n", text) if line == "event: heartbeat"]


def is_whole_pieces_joined(chunks, pieces):
    """True if `chunks` are exactly `pieces` in order, consecutive ones possibly
    joined into one chunk. A stream may rightly join pieces that piled up
    while the server was busy, so tests check order and content this way,
    never how many chunks a busy machine happened to send."""
    def ends(parts):
        total, out = 0, set()
        for part in parts:
            total += len(part)
            out.add(total)
        return out

    return "".join(chunks) == "".join(pieces) and ends(chunks) <= ends(pieces)
