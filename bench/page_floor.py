"""The page's floor: the cheapest honest Flask app that answers a message the
way the project's page does, for bench/concurrency.py's `page-floor` route.

    gunicorn bench.page_floor:app     (from the project's root, gunicorn.conf.py's settings)

The project's page answers in two requests (app/web/page.py): `POST /messages`
(htmx: session cookie, CSRF token) returns the new bubbles at once, the
answer's bubble naming its event stream; the browser then `GET`s
`/answers/<id>/events` as SSE: a comment, piece events, the finished answer
replacing the bubble, `event: done`. This app does the same with nothing
else: no database, no generation apart from the request, no markdown, no
rate limits, no per-request middleware. Run under the same gunicorn config
and nginx, it is what that shape costs by itself, so the page route can be
compared with it in the same run: what the page costs above this line is the
project's own.

Kept honest where it is cheap to be:

- `GET /` opens a session: Flask's signed cookie holding a random CSRF
  token, shown in `<meta name="csrf-token">` (what bench/loadgen.py's
  `open_sessions` reads).
- `POST /messages` compares the `X-CSRF-Token` header (or the `csrf_token`
  field) with the session's token (a constant-time compare), checks the
  message as the app does (not blank, at most CHAT_MAX_MESSAGE_CHARS), and
  answers with the question's and the answer's bubbles.
- No storage, and with several gunicorn workers the GET may reach another
  worker than the POST: so the message travels in the event stream's URL,
  `/answers/<ID>/events?offset=0&m=<base64url of the message>&s=<HMAC>`.
  The HMAC (SHA-256, keyed from SECRET_KEY, which every worker has) covers
  the answer id, the session's CSRF token and the message, so only the
  session that posted the message can open its stream, and only with that
  text: what the app's ownership check (a database query) guarantees, for
  one HMAC. Base64 (in C) rather than percent-encoding: no per-byte Python
  loop, and the same 4/3 for any text. The price: the URL grows with the
  message, and nginx refuses a request line over 8 KB (its default
  large_client_header_buffers), i.e. messages over ~6,000 bytes; the bench
  sends 1,200 characters.
- `GET /answers/<ID>/events` plays the fake model (app/providers/fake.py)
  in the request itself: its cut (`split_evenly`) and its clock, piece i due
  at CHAT_FAKE_TTFT_MS + i x CHAT_FAKE_CHUNK_MS after the stream opened (the
  app starts the model when the page subscribes, too), read with the app's
  own `load_config`. Events are framed as app/rendering/page_events.py
  frames them where bench/loadgen.py checks them: `: stream open`, then per
  piece `id: <answer length so far>` and an `<hx-partial>` appending the
  escaped text to `#m-ID-text`, then one event replacing `#m-ID` with an
  `outcome-complete` article, then `event: done`. The text is escaped with
  markupsafe, and CR and LF as character references, so each event stays
  one `data:` line (the app splits it into several instead; same text in
  the page). No heartbeats: the app sends one every 15 s, longer than an
  answer here.
- A reconnect (`Last-Event-ID`, or `?offset=`) gets the text after that
  offset, with no piece twice; but the floor keeps no state, so it cannot
  know how far the model had got: the rest comes on a fresh clock. (So a
  resume storm on this app would mean nothing; bench/concurrency.py runs
  `--resume-storm` on the project's page only.)
"""

import base64
import hashlib
import hmac
import secrets
import time

from flask import Flask, Response, abort, request, session, stream_with_context
from markupsafe import escape

from app.config import load_config
from app.providers.fake import split_evenly
from app.web.headers import STREAM_HEADERS

CSRF_KEY = "csrf"  # the session's token, as app/auth/csrf.py keeps it
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_BODY_BYTES = 1024 * 1024  # as the app (app/web/message_input.py)

OPENING = ": stream open\n\n"
DONE = "event: done\ndata: \n\n"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="csrf-token" content="{token}">
<title>Page floor</title></head>
<body><main id="transcript"></main></body></html>
"""


# --- carrying the message from the POST to the GET ---------------------------------


def signature(key, answer_id, token, text):
    """Binds the answer id, the session (its CSRF token) and the message."""
    return hmac.digest(key, f"{answer_id}\n{token}\n{text}".encode(), "sha256").hex()


def events_url(key, answer_id, token, text):
    message = base64.urlsafe_b64encode(text.encode()).decode()
    return f"/answers/{answer_id}/events?offset=0&m={message}&s={signature(key, answer_id, token, text)}"


def message_of(key, answer_id, token, args):
    """The message the URL carries, or None if it was not signed for this answer and session."""
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(args.get("m", "")).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError
        return None
    expected = signature(key, answer_id, token, text).encode()
    return text if hmac.compare_digest(args.get("s", "").encode(), expected) else None


def resume_offset():
    """Where the subscriber's page is: the last event id it read (a reconnect),
    else the offset in the URL; None if neither is a whole number."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("offset", "0")
    return int(raw) if raw.isascii() and raw.isdigit() else None


# --- the HTML and the events ----------------------------------------------------------


def escape_text(text):
    """Text for an HTML text node inside one SSE `data:` line."""
    return str(escape(text)).replace("\r", "&#13;").replace("\n", "&#10;")


def partial(target, swap, html):
    return f'<hx-partial hx-target="{target}" hx-swap="{swap}">{html}</hx-partial>'


def bubbles(answer_id, text, url):
    """The question's bubble and the answer's, which subscribes to its events."""
    return (
        f'<article id="m-{answer_id - 1}" class="message user outcome-complete">'
        f'<div class="text">{escape_text(text)}</div></article>\n'
        f'<article id="m-{answer_id}" class="message assistant outcome-streaming">'
        f'<div class="text" id="m-{answer_id}-text"></div>'
        f'<div class="subscription" hidden hx-sse:connect="{escape(url)}" hx-sse:close="done"></div></article>\n'
        + partial("#announcer", "innerHTML", "Answer started.")
    )


def piece_event(answer_id, text, length):
    return f"id: {length}\ndata: {partial(f'#m-{answer_id}-text', 'beforeend', escape_text(text))}\n\n"


def final_event(answer_id, text):
    article = (f'<article id="m-{answer_id}" class="message assistant outcome-complete">'
               f'<div class="markdown"><p>{escape_text(text)}</p></div></article>')
    html = partial(f"#m-{answer_id}", "outerHTML", article) + partial("#announcer", "innerHTML", "Answer complete.")
    return f"data: {html}\n\n"


# --- the fake model ---------------------------------------------------------------------


def pieces_after(text, chunks, offset):
    """The fake model's pieces of `text` from `offset` on (the first one cut there)."""
    start = 0
    for piece in split_evenly(text, chunks):
        end = start + len(piece)
        if end > offset:
            yield piece[max(0, offset - start):]
        start = end


def answer_events(answer_id, text, offset, config):
    """The SSE text: at once a comment, then each piece when the fake model's
    clock says it is due, then the finished answer and `done`."""
    yield OPENING
    opened = time.monotonic()
    for index, piece in enumerate(pieces_after(text, config.fake_chunks, offset)):
        wait = opened + (config.fake_ttft_ms + index * config.fake_chunk_ms) / 1000 - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # gevent's, under gunicorn's gevent worker
        offset += len(piece)
        yield piece_event(answer_id, piece, offset)
    yield final_event(answer_id, text) + DONE


# --- the app ------------------------------------------------------------------------------


def csrf_ok():
    expected = session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def checked_message(config):
    """The message as sent, or an error response as the app gives it."""
    text = request.form.get("message", "")
    if not text.strip():
        return None, ("Please type a message first.", 400)
    if len(text) > config.max_message_chars:
        return None, (f"That message is {len(text):,} characters long; the limit is {config.max_message_chars:,}.", 413)
    return text, None


def create_app():
    config = load_config()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    # Its own key for the URLs, apart from the session cookie's.
    url_key = hashlib.sha256(b"page-floor events url\0" + config.secret_key.encode()).digest()

    @app.get("/")
    def page():
        if CSRF_KEY not in session:
            session[CSRF_KEY] = secrets.token_urlsafe(32)
        return PAGE.format(token=escape(session[CSRF_KEY]))

    @app.post("/messages")
    def post_message():
        if not csrf_ok():
            return "This page has expired. Reload it and try again.", 400
        text, error = checked_message(config)
        if error:
            return error
        answer_id = secrets.randbits(48) | 1  # odd; the question's bubble is the even one before
        return bubbles(answer_id, text, events_url(url_key, answer_id, session[CSRF_KEY], text))

    @app.get("/answers/<int:answer_id>/events")
    def events(answer_id):
        text = message_of(url_key, answer_id, session.get(CSRF_KEY), request.args)
        if text is None:
            abort(404)
        offset = resume_offset()
        if offset is None or offset > len(text):
            return "Bad offset.", 400
        return Response(stream_with_context(answer_events(answer_id, text, offset, config)),
                        mimetype="text/event-stream", headers=STREAM_HEADERS)

    return app


app = create_app()
