"""An asyncio load generator for the streaming routes: N simultaneous answers
on raw sockets (HTTP/1.1, `Connection: close`), every piece of every answer
timestamped on arrival.

Only the standard library. Each connection is an `asyncio.Protocol` (no
StreamReader layer, no per-chunk coroutine switch), so one process keeps a
thousand streams at ~60 pieces each well below one core; `run_streams` also
reports its own CPU time and event-loop lag so a reader can check that the
generator was not the bottleneck.

The routes:

- API: one request, `POST /api/chat/stream` (text/plain, chunked). The body
  is the message itself, so piece i has arrived once the body is as long as
  the first i+1 pieces of `split_evenly(message, chunks)` (the fake model's
  own cut). This does not depend on how nginx or the kernel regroup chunks.
- v1: one request, `POST /v1/chat/completions` with `stream: true` (the
  OpenAI-compatible API): SSE `chat.completion.chunk`s, counted as the API's by
  the length of their joined `delta.content`; exact once it equals the message
  and `data: [DONE]` has arrived.
- Page: two requests, as htmx makes them. `POST /messages` (`HX-Request:
  true`, the session's cookie and CSRF token) answers at once with the new
  bubbles (text/html); the answer's bubble carries
  `hx-sse:connect="/answers/<ID>/events?offset=0"`, and the client then
  subscribes with `GET` on that URL (same cookie): an SSE stream whose piece
  events carry `id: <answer length so far>` and
  `<hx-partial hx-target="#m-ID-text" hx-swap="beforeend">ESCAPED TEXT`, then
  one event that replaces `#m-ID` (outerHTML) with the finished answer, then
  `event: done`. Pieces are counted as on the API, by the html-unescaped text
  carried so far by the complete piece events. The server may send pieces
  that piled up as one event; each piece still gets the time its text
  arrived. (The bench's messages are letters and spaces without blank lines,
  so no markdown block is ever rendered mid-stream: an event of that other
  form is counted as `unknown_events` and makes the stream not byte-exact.)

Every time is measured from the request start: the moment the client starts
connecting for its (first) POST. On the page the first piece therefore
includes the POST round trip, the GET and the model's TTFT; the page also
records its *opening*, when the POST's whole response (the new bubbles) had
arrived, and its GET's first byte (the `: stream open` comment).

Byte-exactness: the API body must equal the message. On the page the
html-unescaped texts of the piece events, joined, must equal the message, each
piece event's id must be the length of the text received so far (so nothing
was skipped or sent twice), and the final event, replacing the bubble with an
`outcome-complete` answer, must have arrived.

`run_resume_storm` (page only) opens N answers, and once every one has
received at least K pieces, closes every GET connection at once (as a network
drop would) and at once reopens each with `Last-Event-ID` = the last event id
that client had read. Text in bytes that had arrived but did not yet form a
complete event is dropped with the connection, as a browser would drop it.
"""

import asyncio
import html
import json
import random
import re
import resource
import string
import threading
import time
from urllib.parse import urlencode

API_PATH = "/api/chat/stream"
V1_PATH = "/v1/chat/completions"
API_ROUTES = ("api", "api-stored", "v1")
PAGE_PATH = "/messages"
# The common piece event, exactly as app/rendering/page_events.py frames it
# (without the blank line that ends it): matched in place, without a copy.
PIECE_EVENT = re.compile(
    rb'id: (\d+)\ndata: <hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">([^\n]*)</hx-partial>'
)
PIECE_CONTENT = re.compile(r'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*)</hx-partial>', re.S)
FINAL_EVENT = re.compile(r'<hx-partial hx-target="#m-\d+" hx-swap="outerHTML">')
COMPLETE = re.compile(r'<article id="m-\d+" class="[^"]*\boutcome-complete\b')
EVENTS_URL = re.compile(rb'hx-sse:connect="([^"]*)"')
CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]*)"')

_HEAD, _SIZE, _DATA, _DATA_END, _TRAILER, _PLAIN, _DONE = range(7)


def split_evenly(text, chunks):
    """The fake provider's cut (app/providers/fake.py), repeated here so the
    generator imports nothing from the app."""
    count = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return [piece for piece in pieces if piece]


def piece_ends(text, chunks, unit=len):
    """The length of the text (measured by `unit`) at which each piece is complete."""
    ends, total = [], 0
    for piece in split_evenly(text, chunks):
        total += unit(piece)
        ends.append(total)
    return ends


def make_message(index, chars, seed=0):
    """A distinct message of ASCII letters and single spaces, `chars` long
    (no leading or trailing space: the app strips messages)."""
    rng = random.Random(f"{seed}:{index}")
    words, length = [], 0
    while length < chars + 10:
        word = "".join(rng.choices(string.ascii_letters, k=rng.randint(2, 9)))
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)[:chars]
    return text[:-1] + "x" if text.endswith(" ") else text


def build_request(route, host, port, message, client=None):
    """The raw first request. `client` is who sends it: on the page a browser
    session (Cookie header value, CSRF token) from `open_sessions`; on the API
    a key, sent as a bearer token."""
    if route in API_ROUTES:
        # api-stored: a stored conversation, as a program that resumes does:
        # the answer is saved and generated apart from the request, as on the page.
        fields = {"message": message, **({"conversation_id": "new"} if route == "api-stored" else {})}
        path, body = API_PATH, json.dumps(fields).encode()
        if route == "v1":
            path = V1_PATH
            body = json.dumps({"stream": True, "messages": [{"role": "user", "content": message}]}).encode()
        extra = "Content-Type: application/json\r\n"
        if client:
            extra += f"Authorization: Bearer {client}\r\n"
    else:
        path, body = PAGE_PATH, urlencode({"message": message}).encode()
        extra = "Content-Type: application/x-www-form-urlencoded\r\nHX-Request: true\r\n"
        cookie, token = client or ("", "")
        if cookie:
            extra += f"Cookie: {cookie}\r\n"
        if token:
            extra += f"X-CSRF-Token: {token}\r\n"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def build_events_request(host, port, url, cookie, last_event_id=None):
    """The page's subscription: GET of the bubble's hx-sse:connect URL, and on
    a reconnect the last event id the client read."""
    extra = "HX-Request: true\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
    if cookie:
        extra += f"Cookie: {cookie}\r\n"
    if last_event_id is not None:
        extra += f"Last-Event-ID: {last_event_id}\r\n"
    head = f"GET {url} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n"
    return head.encode("ascii")


# --- one HTTP/1.1 response, decoded incrementally ------------------------------


class HttpResponse(asyncio.Protocol):
    """One request on its own connection: writes it and decodes the response
    (chunked or not) as it arrives, handing body bytes to `_body(data, now)`.
    `done` gets True once the response has ended, False if the connection
    was lost first (or `cut()`)."""

    def __init__(self, request, done):
        self.request = request
        self.done = done
        self.transport = None
        self.state = _HEAD
        self.buffer = bytearray()
        self.remaining = 0  # of the chunk; without chunks, of the body (None: until the connection closes)
        self.received = 0  # body bytes, without chunks
        self.status = None
        self.headers = {}
        self.set_cookies = []
        self.error = ""
        self.was_cut = False
        self.connected_at = self.first_byte_at = self.ended_at = None

    # asyncio callbacks

    def connection_made(self, transport):
        self.connected_at = time.perf_counter()
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        now = time.perf_counter()
        buffer = self.buffer
        buffer += data
        if self.state == _HEAD:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._parse_head(bytes(buffer[:end]).decode("latin-1"))
            del buffer[: end + 4]
            if self.state == _PLAIN and self.remaining == 0:
                self._finish(now)
                return
        while buffer:
            state = self.state
            if state == _SIZE:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(buffer[:end]).split(b";")[0], 16)
                del buffer[: end + 2]
                if size:
                    self.remaining, self.state = size, _DATA
                else:
                    self.state = _TRAILER
            elif state == _DATA:
                take = min(self.remaining, len(buffer))
                self._body(buffer[:take], now)
                del buffer[:take]
                self.remaining -= take
                if not self.remaining:
                    self.state = _DATA_END
            elif state == _DATA_END:
                if len(buffer) < 2:
                    return
                del buffer[:2]
                self.state = _SIZE
            elif state == _TRAILER:
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                line = buffer[:end]
                del buffer[: end + 2]
                if not line:
                    self._finish(now)
                    return
            elif state == _PLAIN:
                self.received += len(buffer)
                self._body(bytes(buffer), now)
                buffer.clear()
                if self.remaining is not None and self.received >= self.remaining:
                    self._finish(now)
                return
            else:
                buffer.clear()
                return

    def eof_received(self):
        if self.state == _PLAIN and self.remaining is None:
            self._finish(time.perf_counter())
        return False

    def connection_lost(self, exc):
        if not self.done.done():
            if not self.was_cut:
                self.error = self.error or f"connection lost in state {self.state}: {exc!r}"
            self.done.set_result(False)

    # parsing

    def _parse_head(self, head):
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = value
            if name == "set-cookie":
                self.set_cookies.append(value.split(";", 1)[0])
        self.headers = headers
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.state = _SIZE
        else:
            self.state = _PLAIN
            length = headers.get("content-length")
            self.remaining = int(length) if length else None

    def _body(self, data, now):
        if self.first_byte_at is None:
            self.first_byte_at = now

    def _finish(self, now):
        self.ended_at = now
        self.state = _DONE
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(True)

    def cut(self):
        """Drop the connection as a network failure would: nothing more is
        read from it (asyncio stops reading at once). True if it was open."""
        if self.transport is None or self.state == _DONE or self.done.done() or self.transport.is_closing():
            return False
        self.was_cut = True
        self.transport.close()
        return True


async def _exchange(loop, protocol, host, port, deadline, timeout):
    """Connect, send `protocol.request`, and wait for its response until
    `deadline` (perf_counter: the stream's start + `timeout`); errors end up
    in `protocol.error`."""
    try:
        await asyncio.wait_for(loop.create_connection(lambda: protocol, host, port),
                               max(0.001, deadline - time.perf_counter()))
        await asyncio.wait_for(protocol.done, max(0.001, deadline - time.perf_counter()))
    except asyncio.TimeoutError:
        protocol.error = protocol.error or f"timed out after {timeout:.0f}s"
    except OSError as error:
        protocol.error = f"connect failed: {error!r}"
    finally:
        if protocol.transport is not None and not protocol.transport.is_closing():
            protocol.transport.close()
    return protocol


class WholeResponse(HttpResponse):
    """A response read whole (the page's POST)."""

    def __init__(self, request, done):
        super().__init__(request, done)
        self.body = bytearray()

    def _body(self, data, now):
        super()._body(data, now)
        self.body += data


# --- the API: one streamed response -----------------------------------------------


class StreamProtocol(HttpResponse):
    """`POST /api/chat/stream`: piece i has arrived when the body is as long
    as the first i+1 pieces of the message."""

    def __init__(self, request, message, chunks, done):
        super().__init__(request, done)
        self.message = message
        self.body = bytearray()
        self.arrivals = []
        self.piece_ends = piece_ends(message, chunks, unit=lambda piece: len(piece.encode()))

    def _body(self, data, now):
        super()._body(data, now)
        body = self.body
        body += data
        arrivals, ends, length = self.arrivals, self.piece_ends, len(body)
        while len(arrivals) < len(ends) and length >= ends[len(arrivals)]:
            arrivals.append(now)

    def exact(self):
        return self.status == 200 and self.ended_at is not None and bytes(self.body) == self.message.encode()

    def result(self, started):
        ok = self.status == 200 and self.ended_at is not None
        return {
            "started": started,
            "status": self.status,
            "complete": ok,
            "exact": self.exact(),
            "error": self.error or ("" if ok else f"status {self.status}"),
            "connect": None if self.connected_at is None else self.connected_at - started,
            "first_byte": None if self.first_byte_at is None else self.first_byte_at - started,
            "arrivals": [t - started for t in self.arrivals],
            "total": None if self.ended_at is None else self.ended_at - started,
            "expected_pieces": len(self.piece_ends),
        }


class ChunkStreamProtocol(StreamProtocol):
    """`POST /v1/chat/completions` streamed: the same count as the API's, on
    the joined `delta.content` of the complete `data:` events."""

    def __init__(self, request, message, chunks, done):
        super().__init__(request, message, chunks, done)
        self.events = bytearray()
        self.text = bytearray()
        self.done_seen = False

    def _body(self, data, now):
        HttpResponse._body(self, data, now)
        events = self.events
        events += data
        end = events.rfind(b"\n\n")
        if end < 0:
            return
        for block in bytes(events[:end]).split(b"\n\n"):
            if block == b"data: [DONE]":
                self.done_seen = True
            elif block.startswith(b"data: {"):
                choices = json.loads(block[6:])["choices"]
                if choices:
                    self.text += (choices[0]["delta"].get("content") or "").encode()
        del events[: end + 2]
        arrivals, ends, length = self.arrivals, self.piece_ends, len(self.text)
        while len(arrivals) < len(ends) and length >= ends[len(arrivals)]:
            arrivals.append(now)

    def exact(self):
        return (self.status == 200 and self.ended_at is not None and self.done_seen
                and bytes(self.text) == self.message.encode())


async def _one_api_stream(host, port, route, message, chunks, timeout, client=None):
    loop = asyncio.get_running_loop()
    reader = ChunkStreamProtocol if route == "v1" else StreamProtocol
    protocol = reader(build_request(route, host, port, message, client), message, chunks, loop.create_future())
    started = time.perf_counter()
    await _exchange(loop, protocol, host, port, started + timeout, timeout)
    return protocol.result(started)


# --- the page: POST, then the answer's event stream (and its reconnects) -------------


class PageAnswer:
    """One page client's answer across its requests: the POST, then one GET of
    the event stream per (re)connection. Collects the text of the piece
    events, checks their ids, and timestamps every piece."""

    def __init__(self, message, chunks, client):
        self.message = message
        self.cookie, self.token = client or ("", "")
        self.piece_ends = piece_ends(message, chunks)  # characters, as the event ids count
        self.arrivals = []
        self.texts = []
        self.text_length = 0
        self.last_id = None  # the last event id read, sent back as Last-Event-ID
        self.id_errors = 0  # piece events whose id is not the length of the text so far
        self.unknown_events = 0
        self.finals = 0
        self.final_complete = False  # the final event showed an outcome-complete answer
        self.done_event = False
        self.error = ""
        self.started = self.opened_at = None
        self.post = None
        self.events_url = None
        self.streams = []  # EventStream per GET, in order
        self.on_progress = None  # called after new pieces and when the answer is over
        # resume storm
        self.over = False
        self.settled = False
        self.cut_at = self.reopened_at = self.resumed_at = None
        self.pieces_at_cut = self.chars_at_cut = None
        self.resume_kind = None  # "piece" or "end": what came first after the reopen
        self.replayed_chars = None  # length of the first piece event after the reopen

    @property
    def stream(self):
        return self.streams[-1] if self.streams else None

    def piece(self, event_id, text, now):
        self.texts.append(text)
        self.text_length += len(text)
        if event_id != self.text_length:
            self.id_errors += 1
        self.last_id = event_id
        if self.reopened_at is not None and self.resumed_at is None:
            self.resumed_at, self.resume_kind, self.replayed_chars = now, "piece", len(text)
        arrivals, ends, length = self.arrivals, self.piece_ends, self.text_length
        while len(arrivals) < len(ends) and length >= ends[len(arrivals)]:
            arrivals.append(now)

    def other_event(self, block, now):
        """Any event but the common piece event: parsed by the SSE rules."""
        name, event_id, data = "", None, []
        for line in block.decode("utf-8", "replace").split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value
            elif field == "id":
                event_id = value
        if not data and not name and event_id is None:
            return  # a comment: ": stream open", ": ping"
        if name == "done":
            self.done_event = True
            return
        if name == "heartbeat":  # the page's heartbeat (a named event the page's script hears)
            return
        data = "\n".join(data)
        piece = PIECE_CONTENT.fullmatch(data)
        if piece and event_id is not None and event_id.isdigit():
            self.piece(int(event_id), html.unescape(piece.group(1)), now)
        elif FINAL_EVENT.search(data):
            self.finals += 1
            self.final_complete = bool(COMPLETE.search(data))
            if self.reopened_at is not None and self.resumed_at is None:
                self.resumed_at, self.resume_kind = now, "end"
        else:
            self.unknown_events += 1
            if event_id is not None:
                self.last_id = event_id

    def progressed(self):
        if self.on_progress is not None:
            self.on_progress(self)

    # outcome

    def complete(self):
        stream = self.stream
        return (self.post is not None and self.post.status == 200 and stream is not None
                and stream.status == 200 and stream.ended_at is not None and self.done_event)

    def exact(self):
        return (self.complete() and self.final_complete and not self.id_errors and not self.unknown_events
                and "".join(self.texts) == self.message)

    def result(self):
        started, stream, post = self.started, self.stream, self.post
        first_get = self.streams[0] if self.streams else None

        def since(t):
            return None if t is None else t - started

        ok = self.complete()
        error = self.error or (stream.error if stream else "") or ("" if ok else (
            f"POST status {post.status}" if post is None or post.status != 200 else
            f"GET status {stream.status}" if stream is None or stream.status != 200 else "no done event"))
        result = {
            "started": started,
            "status": post.status if post else None,
            "events_status": stream.status if stream else None,
            "complete": ok,
            "exact": self.exact(),
            "error": error,
            "connect": since(post.connected_at) if post else None,
            "opening": since(self.opened_at),  # the POST's whole response (the new bubbles)
            "subscribe_connect": since(first_get.connected_at) if first_get else None,
            "first_byte": since(first_get.first_byte_at) if first_get else None,  # ": stream open"
            "arrivals": [t - started for t in self.arrivals],
            "total": since(stream.ended_at) if stream and ok else None,
            "expected_pieces": len(self.piece_ends),
            "id_errors": self.id_errors,
            "unknown_events": self.unknown_events,
        }
        if self.cut_at is not None:
            result.update({
                "cut": since(self.cut_at),
                "pieces_at_cut": self.pieces_at_cut,
                "chars_at_cut": self.chars_at_cut,
                "reopened": since(self.reopened_at),
                "resume": None if self.resumed_at is None else self.resumed_at - self.reopened_at,
                # reopen -> the new GET's first byte (": stream open"): the reconnect alone
                "resume_open": (stream.first_byte_at - self.reopened_at
                                if len(self.streams) > 1 and stream.first_byte_at is not None else None),
                "resume_kind": self.resume_kind,
                "replayed_chars": self.replayed_chars,
                # `exact` covers it: text before the cut + text after == the
                # message, and every id matched the text so far (nothing twice)
                "chars_after_cut": self.text_length - self.chars_at_cut,
            })
        return result


class EventStream(HttpResponse):
    """One GET of an answer's event stream: hands each complete SSE event to
    its PageAnswer (bytes of an unfinished event stay here, and are lost
    with the connection)."""

    def __init__(self, request, done, answer):
        super().__init__(request, done)
        self.answer = answer
        self.pending = bytearray()

    def _body(self, data, now):
        if self.first_byte_at is None:
            self.first_byte_at = now
        pending = self.pending
        pending += data
        answer, start, seen = self.answer, 0, False
        while True:
            end = pending.find(b"\n\n", start)
            if end < 0:
                break
            event = PIECE_EVENT.fullmatch(pending, start, end)
            if event:
                answer.piece(int(event.group(1)), html.unescape(event.group(2).decode()), now)
            else:
                answer.other_event(bytes(pending[start:end]), now)
            start, seen = end + 2, True
        if start:
            del pending[:start]
        if seen:
            answer.progressed()


def _page_cookie(cookie, set_cookies):
    """The Cookie header after a response's Set-Cookie (as a browser would keep it)."""
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    for item in set_cookies:
        if "=" in item:
            name, value = item.split("=", 1)
            jar[name.strip()] = value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


async def _page_answer(host, port, answer, timeout):
    """POST the message, then follow the answer's event stream until it ends
    (or is cut by a resume storm)."""
    loop = asyncio.get_running_loop()
    answer.started = started = time.perf_counter()
    deadline = started + timeout
    try:
        post = WholeResponse(build_request("page", host, port, answer.message, (answer.cookie, answer.token)),
                             loop.create_future())
        answer.post = post
        await _exchange(loop, post, host, port, deadline, timeout)
        answer.opened_at = post.ended_at
        if post.ended_at is None or post.status != 200:
            answer.error = post.error or f"POST status {post.status}"
            return answer
        url = EVENTS_URL.search(post.body)
        if not url:
            answer.error = "no hx-sse:connect in the POST's response"
            return answer
        answer.events_url = html.unescape(url.group(1).decode())
        answer.cookie = _page_cookie(answer.cookie, post.set_cookies)
        await _follow(loop, host, port, answer, deadline, timeout)
    finally:
        if answer.stream is None or not answer.stream.was_cut:
            answer.over = True
            answer.progressed()
    return answer


async def _follow(loop, host, port, answer, deadline, timeout, last_event_id=None):
    stream = EventStream(build_events_request(host, port, answer.events_url, answer.cookie, last_event_id),
                         loop.create_future(), answer)
    answer.streams.append(stream)
    await _exchange(loop, stream, host, port, deadline, timeout)
    return stream


async def _one_page_stream(host, port, message, chunks, timeout, client=None):
    answer = await _page_answer(host, port, PageAnswer(message, chunks, client), timeout)
    return answer.result()


# --- running many ------------------------------------------------------------------------


async def _one_stream(host, port, route, message, chunks, timeout, client=None):
    if route in API_ROUTES:
        return await _one_api_stream(host, port, route, message, chunks, timeout, client)
    return await _one_page_stream(host, port, message, chunks, timeout, client)


async def _fetch_session(host, port, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    cookies = [
        line.split(":", 1)[1].strip().split(";", 1)[0]
        for line in head.decode("latin-1").split("\r\n")[1:]
        if line.lower().startswith("set-cookie:")
    ]
    token = CSRF_META.search(body)
    return "; ".join(cookies), html.unescape(token.group(1).decode()) if token else ""


async def open_sessions(host, port, count, timeout=30.0, concurrency=32):
    """`count` browser sessions: GET / for each, keeping its cookie and the
    page's CSRF token (if the app has one). Not timed: done before a run."""
    gate = asyncio.Semaphore(concurrency)

    async def one():
        async with gate:
            return await _fetch_session(host, port, timeout)

    return await asyncio.gather(*(one() for _ in range(count)))


async def _watch_loop_lag(lags, stop, every=0.01):
    """How late the generator's own event loop wakes up: if it is late, the
    timestamps are too (the generator would be the bottleneck)."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - before - every)


def _sample_on_a_thread(sampler, every):
    """Call `sampler()` every `every` seconds on a thread of its own; returns
    the function that stops it. Reading /proc (smaps_rollup most) takes
    milliseconds: on the event loop it delayed every timestamp behind it
    (a single answer's first piece by about 10 ms)."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            sampler()
            stop.wait(every)

    thread = threading.Thread(target=run, name="sampler", daemon=True)
    thread.start()

    def stop_sampling():
        stop.set()
        thread.join()

    return stop_sampling


async def _measured(work, sampler, sample_every):
    """Await `work` while watching the event loop's lag (and calling
    `sampler`); return (its result, generator stats)."""
    stop = asyncio.Event()
    lags = []
    helpers = [asyncio.create_task(_watch_loop_lag(lags, stop))]
    stop_sampling = _sample_on_a_thread(sampler, sample_every) if sampler is not None else None
    usage_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = await work
    wall = time.perf_counter() - wall_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    await asyncio.gather(*helpers)
    if stop_sampling is not None:
        stop_sampling()
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    lags.sort()
    stats = {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "cpu_share": cpu / wall if wall else 0.0,
        "loop_lag_p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        "loop_lag_max_ms": 1000 * lags[-1] if lags else 0.0,
    }
    return result, stats


async def run_streams(host, port, route, messages, chunks, timeout, sampler=None, sample_every=0.05,
                      clients=None):
    """Open len(messages) answers at once; return (stream results, generator stats).

    `sampler()` (optional) is called every `sample_every` seconds meanwhile,
    e.g. to read server RSS from /proc. `clients`: one per message (see
    `build_request`), so that each stream is its own client for the app's
    per-client limits."""
    clients = clients or [None] * len(messages)
    work = asyncio.gather(*(
        _one_stream(host, port, route, m, chunks, timeout, c) for m, c in zip(messages, clients)
    ))
    return await _measured(work, sampler, sample_every)


async def _resume(host, port, answer, timeout):
    """Reopen a cut answer's event stream from the last event id it read."""
    loop = asyncio.get_running_loop()
    answer.reopened_at = time.perf_counter()
    try:
        await _follow(loop, host, port, answer, answer.started + timeout, timeout, last_event_id=answer.last_id)
    finally:
        answer.over = True
    return answer


async def _storm(host, port, messages, chunks, timeout, clients, cut_after):
    loop = asyncio.get_running_loop()
    answers = [PageAnswer(m, chunks, c) for m, c in zip(messages, clients)]
    settled = {"count": 0}
    all_settled = loop.create_future()

    def on_progress(answer):
        # settled: has K pieces, or will never get them (ended, failed)
        if not answer.settled and (len(answer.arrivals) >= cut_after or answer.over):
            answer.settled = True
            settled["count"] += 1
            if settled["count"] == len(answers) and not all_settled.done():
                all_settled.set_result(None)

    for answer in answers:
        answer.on_progress = on_progress
    started = time.perf_counter()
    first = [asyncio.create_task(_page_answer(host, port, a, timeout)) for a in answers]
    try:
        await asyncio.wait_for(asyncio.shield(all_settled), timeout)
        reason = "pieces"
    except asyncio.TimeoutError:
        reason = "timeout"
    # The cut: every open GET at once, no await in between ...
    cut_at = time.perf_counter()
    cut = []
    for answer in answers:
        stream = answer.stream
        if stream is not None and stream.cut():
            answer.cut_at = cut_at
            answer.pieces_at_cut, answer.chars_at_cut = len(answer.arrivals), answer.text_length
            cut.append(answer)
    # ... and at once every one reopened with its Last-Event-ID.
    again = [asyncio.create_task(_resume(host, port, a, timeout)) for a in cut]
    await asyncio.gather(*first)
    await asyncio.gather(*again)
    ends = [a.stream.ended_at for a in cut if a.stream is not None and a.stream.ended_at is not None]
    storm = {
        "cut_reason": reason,
        "cut_after_pieces": cut_after,
        "cut_at_seconds": cut_at - started,
        "cut": len(cut),
        # from the cut to the end of the last reopened stream
        "storm_seconds": (max(ends) - cut_at) if ends and len(ends) == len(cut) else None,
        "run_seconds": time.perf_counter() - started,
    }
    return [a.result() for a in answers], storm


async def run_resume_storm(host, port, messages, chunks, timeout, clients, cut_after=10, sampler=None,
                           sample_every=0.05):
    """Page only: open len(messages) answers at once; when each has at least
    `cut_after` pieces (or has ended), close every event stream at once and
    reopen each with Last-Event-ID. Returns (stream results, storm figures,
    generator stats)."""
    (results, storm), stats = await _measured(
        _storm(host, port, messages, chunks, timeout, clients, cut_after), sampler, sample_every)
    return results, storm, stats


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
