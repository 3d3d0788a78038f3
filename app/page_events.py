"""Framing the reply pipeline's events for the htmx page.

Each SSE message carries an HTML fragment that htmx 4's hx-sse extension swaps
in: the first goes to the form's target (the transcript); the rest are
`<hx-partial>`s aimed at the answer's own bubble. Pieces are escaped text, so
the per-piece cost does not depend on the answer's length.
"""

from flask import render_template

from app.rendering import escape_text
from app.sse import frame_comment, frame_event
from app.store import apply_finished
from app.streaming import Heartbeat, Piece

OPENING = frame_comment("stream open")
PING = frame_comment("ping")


def piece_event(answer_id, text):
    return frame_event(
        f'<hx-partial hx-target="#m-{answer_id}-text" hx-swap="beforeend">{escape_text(text)}</hx-partial>'
    )


def replace_message_event(message):
    html = render_template("_message.html", message=message)
    return frame_event(f'<hx-partial hx-target="#m-{message.id}" hx-swap="outerHTML">{html}</hx-partial>')


def page_events(opening_html, answer, reply_events):
    """SSE text for the page: a comment at once, the new bubbles, the pieces,
    heartbeats, then the finished answer rendered in place of the stream."""
    yield OPENING
    yield frame_event(opening_html)
    for event in reply_events:
        if isinstance(event, Piece):
            yield piece_event(answer.id, event.text)
        elif isinstance(event, Heartbeat):
            yield PING
        else:
            apply_finished(answer, event)
            yield replace_message_event(answer)
