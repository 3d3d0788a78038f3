"""Server-sent events framing: pure functions, no Flask, no models.

See https://html.spec.whatwg.org/multipage/server-sent-events.html: a field
ends at CR, LF or CRLF, so data holding any of them is split into several
`data:` lines, which a client joins back with LF.
"""

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def frame_event(data, event=None, event_id=None):
    """One SSE event carrying `data` (a str), optionally named and with an id."""
    head = ""
    if event:
        head += f"event: {_one_line(event)}\n"
    if event_id is not None:
        head += f"id: {_one_line(str(event_id))}\n"
    body = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    return f"{head}{body}\n"


def frame_comment(text=""):
    """A comment line: ignored by clients, but it keeps proxies and sockets alive."""
    return f": {_one_line(text)}\n\n"


def _one_line(value):
    if _LINE_BREAK.search(value) or "\0" in value:
        raise ValueError("SSE field names and ids must be one line without NUL")
    return value
