"""Framing the reply pipeline's events for the htmx page.

Each SSE message carries an HTML fragment that htmx 4's hx-sse extension swaps
in: the first goes to the form's target (the transcript); the rest are
`<hx-partial>`s aimed at the answer's own bubble. While the answer streams,
finished markdown blocks are rendered once each and the unfinished tail is
escaped text (see markdown.BlockSplitter); at the end the whole answer is
rendered in place.
"""

from flask import render_template

from app.answers.reply_pipeline import Heartbeat, Piece
from app.rendering.markdown import BlockSplitter, escape_text, render_markdown
from app.rendering.sse import frame_comment, frame_event

OPENING = frame_comment("stream open")
PING = frame_comment("ping")
ANNOUNCEMENTS = {
    "complete": "Answer complete.",
    "error": "The answer failed.",
    "stopped": "Answer stopped.",
    "interrupted": "Answer interrupted.",
}


def partial(target, swap, html):
    return f'<hx-partial hx-target="{target}" hx-swap="{swap}">{html}</hx-partial>'


def piece_event(answer_id, splitter, text):
    blocks = splitter.feed(text)
    if not blocks:
        return frame_event(partial(f"#m-{answer_id}-text", "beforeend", escape_text(text)))
    rendered = "".join(render_markdown(block) for block in blocks)
    return frame_event(
        partial(f"#m-{answer_id}-blocks", "beforeend", rendered)
        + partial(f"#m-{answer_id}-text", "innerHTML", escape_text(splitter.tail))
    )


def final_event(message):
    html = render_template("_message.html", message=message, last_answer_id=message.id)
    announcement = ANNOUNCEMENTS.get(message.outcome, "")
    return frame_event(partial(f"#m-{message.id}", "outerHTML", html) + partial("#announcer", "innerHTML", announcement))


def page_events(opening_html, answer_id, reply_events, finished_message):
    """SSE text for the page: a comment and the new bubbles at once, the pieces,
    heartbeats, then the finished answer rendered in place of the stream.

    `finished_message(Finished)` gives the answer's message as it ended,
    which is what is rendered last."""
    # One write: each write is a send() here and a read and a send in nginx.
    yield OPENING + frame_event(opening_html + partial("#announcer", "innerHTML", "Answer started."))
    splitter = BlockSplitter()
    for event in reply_events:
        if isinstance(event, Piece):
            yield piece_event(answer_id, splitter, event.text)
        elif isinstance(event, Heartbeat):
            yield PING
        else:
            yield final_event(finished_message(event))
