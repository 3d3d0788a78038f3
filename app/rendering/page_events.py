"""Framing an answer's stream for the htmx page.

The answer's bubble subscribes to GET /answers/<id>/events (hx-sse:connect).
Each SSE message carries `<hx-partial>`s aimed at the bubble: while the answer
streams, finished markdown blocks are rendered once each and the unfinished
tail is escaped text (see markdown.BlockSplitter); at the end the whole answer
is rendered in place of the bubble, and a named `done` event tells htmx not to
reconnect. Each piece's event id is the answer's length after it, so a
reconnect (Last-Event-ID) picks up exactly where the page is.

The model's thinking goes to the answer's "Thinking" section: the first
thought (or all of them, for a subscriber that starts late) replaces the
section, shown open; later ones are appended as escaped text; and the
answer's first piece folds it.

What the answer waits for before its first piece (a queue for the model, the
model loading) is written into the bubble's status line, and the first piece
clears it.

While nothing else is said the page gets a tiny named `heartbeat` event, not
an SSE comment: htmx's SSE extension drops comments before any script sees
them, and static/stream_health.js must hear the connection to notice one that
went silent (no heartbeat within two periods: it reopens the stream). The
programs' streams keep their `: ping` comments.
"""

from flask import render_template
from markupsafe import Markup

from app.answers.reply_pipeline import Heartbeat, Piece
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.rendering.markdown import BlockSplitter, escape_text, render_block
from app.rendering.sse import frame_comment, frame_event

OPENING = frame_comment("stream open")
HEARTBEAT_EVENT = frame_event("", event="heartbeat")
DONE = frame_event("", event="done")
ANNOUNCEMENTS = {
    "complete": "Answer complete.",
    "truncated": "Answer cut off at the length limit.",
    "blocked": "Answer blocked by Gemini's safety filters.",
    "error": "The answer failed.",
    "stopped": "Answer stopped.",
    "interrupted": "Answer interrupted.",
}


def partial(target, swap, html):
    return f'<hx-partial hx-target="{target}" hx-swap="{swap}">{html}</hx-partial>'


def piece_event(answer_id, splitter, text, offset):
    blocks = splitter.feed(text)
    if blocks:
        rendered = "".join(render_block(block) for block in blocks)
        html = partial(f"#m-{answer_id}-blocks", "beforeend", rendered) + _tail(answer_id, splitter)
    elif splitter.tail_grew_by_piece:
        html = partial(f"#m-{answer_id}-text", "beforeend", escape_text(text))
    else:  # a blank line between blocks was dropped: show the tail as a reload would
        html = _tail(answer_id, splitter)
    return frame_event(html, event_id=offset)


def _tail(answer_id, splitter):
    return partial(f"#m-{answer_id}-text", "innerHTML", escape_text(splitter.tail))


def thinking_section(answer_id, thoughts, open_):
    html = render_template("_thinking.html", answer_id=answer_id, thoughts=Markup(escape_text(thoughts)),
                           open=open_, streaming=True)
    return partial(f"#m-{answer_id}-thinking", "outerHTML", html)


def thought_event(answer_id, thoughts, added, answer_began):
    """`thoughts`: all the thinking so far, `added`: the new part of it (None:
    the section is shown afresh)."""
    if added is None:
        return frame_event(thinking_section(answer_id, thoughts, open_=not answer_began))
    return frame_event(partial(f"#m-{answer_id}-thinking-text", "beforeend", escape_text(added)))


def status_event(answer_id, text):
    return frame_event(partial(f"#m-{answer_id}-status", "innerHTML", escape_text(text)))


def final_event(message):
    html = render_template("_message.html", message=message, last_answer_id=message.id)
    announcement = ANNOUNCEMENTS.get(message.outcome, "")
    total = getattr(message, "conversation_total", None)
    cost = partial("#conversation-cost", "outerHTML", render_template("_conversation_cost.html", total=total)) if total else ""
    return frame_event(partial(f"#m-{message.id}", "outerHTML", html) + partial("#announcer", "innerHTML", announcement)
                       + cost)


def subscriber_events(answer_id, before, events, load_finished):
    """SSE text for one subscriber that has `before` on screen: a comment at
    once, the pieces, heartbeats, then the finished answer rendered in place.

    `events` come from answers.subscription.follow_answer; at their end
    `load_finished()` gives the answer's message (None if it was deleted).
    """
    yield OPENING
    splitter = BlockSplitter()
    splitter.feed(before)
    offset = len(before)
    thoughts = None  # the thinking this subscriber has shown (None: none yet)
    waited = False  # whether the status line says what the answer waits for
    for event in events:
        if isinstance(event, Piece):
            # The answer begins: its thinking folds away (once), and it waits no more.
            fold = frame_event(thinking_section(answer_id, thoughts, open_=False)) if thoughts and not offset else ""
            if waited:
                fold, waited = status_event(answer_id, "") + fold, False
            offset += len(event.text)
            yield fold + piece_event(answer_id, splitter, event.text, offset)
        elif isinstance(event, Waiting):
            waited = True
            yield status_event(answer_id, event.text)
        elif isinstance(event, Thought):
            fresh = event.replaces or thoughts is None
            thoughts = event.text if event.replaces else (thoughts or "") + event.text
            yield thought_event(answer_id, thoughts, None if fresh else event.text, answer_began=offset > 0)
        elif isinstance(event, Heartbeat):
            yield HEARTBEAT_EVENT
        else:
            message = load_finished()
            yield (final_event(message) if message is not None else "") + DONE
            return
