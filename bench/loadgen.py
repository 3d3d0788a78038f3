"""An asyncio load generator for the streaming routes: N simultaneous HTTP/1.1
requests on raw sockets, every piece of every answer timestamped on arrival.

Only the standard library. Each stream is an `asyncio.Protocol` (no
StreamReader layer, no per-chunk coroutine switch), so one process keeps a
thousand streams at ~60 pieces each well below one core; `run_streams` also
reports its own CPU time and event-loop lag so a reader can check that the
generator was not the bottleneck.

A piece is timestamped when the bytes that complete it are read:

- `/api/chat/stream` (text/plain, chunked): the body is the message itself, so
  piece i has arrived once the body is as long as the first i+1 pieces of
  `split_evenly(message, chunks)` (the fake model's own cut). This does not
  depend on how nginx or the kernel regroup the chunks.
- `POST /messages` (text/event-stream): the same, counting the text carried
  so far by the complete SSE events whose data is
  `<hx-partial hx-target="#m-ID-text" hx-swap="beforeend">` (html-unescaped).
  The server may send pieces that piled up as one event; each piece still
  gets the time its text arrived. (The bench's messages are letters and
  spaces, so no markdown block is ever rendered mid-stream.)

Byte-exactness: the API body must equal the message; on the page, the
html-unescaped contents of those partials, joined, must equal the message and
the stream must end with its final (outerHTML) event.
"""

import asyncio
import html
import json
import random
import re
import resource
import string
import time
from urllib.parse import urlencode

API_PATH = "/api/chat/stream"
PAGE_PATH = "/messages"
PIECE_EVENT_CONTENT = re.compile(rb'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*?)</hx-partial>')
FINAL_EVENT = re.compile(rb'<hx-partial hx-target="#m-\d+" hx-swap="outerHTML">')
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
    """The raw request. `client` is who sends it: on the page a browser session
    (Cookie header value, CSRF token) from `open_sessions`; on the API a key,
    sent as a bearer token."""
    if route == "api":
        path, body = API_PATH, json.dumps({"message": message}).encode()
        extra = "Content-Type: application/json\r\n"
        if client:
            extra += f"Authorization: Bearer {client}\r\n"
    else:
        path, body = PAGE_PATH, urlencode({"message": message}).encode()
        extra = "Content-Type: application/x-www-form-urlencoded\r\nHX-Request: true\r\nAccept: text/event-stream\r\n"
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


class StreamProtocol(asyncio.Protocol):
    """One request; decodes the chunked response incrementally and records
    the arrival time of every piece."""

    def __init__(self, route, request, message, chunks, done):
        self.route = route
        self.request = request
        self.message = message
        self.done = done
        self.transport = None
        self.state = _HEAD
        self.buffer = bytearray()
        self.body = bytearray()
        self.remaining = 0
        self.status = None
        self.error = ""
        self.connected_at = self.first_byte_at = self.ended_at = None
        self.arrivals = []
        # text length (UTF-8 bytes) at which each piece is complete
        ends, total = [], 0
        for piece in split_evenly(message, chunks):
            total += len(piece.encode())
            ends.append(total)
        self.piece_ends = ends
        self.scan_from = 0  # page: where the next SSE event starts in body
        self.page_texts = []  # page: the text carried by each event so far
        self.page_text_length = 0  # their UTF-8 length

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
            if not self._parse_head(bytes(buffer[:end]).decode("latin-1")):
                return
            del buffer[: end + 4]
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
                self._body(bytes(buffer), now)
                buffer.clear()
                if self.remaining is not None and len(self.body) >= self.remaining:
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
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.state = _SIZE
        else:
            self.state = _PLAIN
            length = headers.get("content-length")
            self.remaining = int(length) if length else None
        return True

    def _body(self, data, now):
        if self.first_byte_at is None:
            self.first_byte_at = now
        body = self.body
        body += data
        arrivals = self.arrivals
        if self.route == "api":
            length = len(body)
        else:
            while True:
                end = body.find(b"\n\n", self.scan_from)
                if end < 0:
                    break
                event = PIECE_EVENT_CONTENT.search(body, self.scan_from, end)
                if event:
                    text = html.unescape(event.group(1).decode())
                    self.page_texts.append(text)
                    self.page_text_length += len(text.encode())
                self.scan_from = end + 2
            length = self.page_text_length
        ends = self.piece_ends
        while len(arrivals) < len(ends) and length >= ends[len(arrivals)]:
            arrivals.append(now)

    def _finish(self, now):
        self.ended_at = now
        self.state = _DONE
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(True)

    # outcome

    def exact(self):
        """True when the stream carried the message byte for byte."""
        if self.status != 200 or self.ended_at is None:
            return False
        if self.route == "api":
            return bytes(self.body) == self.message.encode()
        # Every event is complete once the stream ended, so `_body` has read them all.
        return "".join(self.page_texts) == self.message and bool(FINAL_EVENT.search(self.body))

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


async def _one_stream(host, port, route, message, chunks, timeout, client=None):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    request = build_request(route, host, port, message, client)
    protocol = StreamProtocol(route, request, message, chunks, done)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(loop.create_connection(lambda: protocol, host, port), timeout)
        await asyncio.wait_for(done, max(0.001, timeout - (time.perf_counter() - started)))
    except asyncio.TimeoutError:
        protocol.error = f"timed out after {timeout}s"
    except OSError as error:
        protocol.error = f"connect failed: {error!r}"
    finally:
        if protocol.transport is not None and not protocol.transport.is_closing():
            protocol.transport.close()
    return protocol.result(started)


async def _watch_loop_lag(lags, stop, every=0.01):
    """How late the generator's own event loop wakes up: if it is late, the
    timestamps are too (the generator would be the bottleneck)."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - before - every)


async def _sample(sampler, stop, every):
    while not stop.is_set():
        sampler()
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass


async def run_streams(host, port, route, messages, chunks, timeout, sampler=None, sample_every=0.05,
                      clients=None):
    """Open len(messages) streams at once; return (stream results, generator stats).

    `sampler()` (optional) is called every `sample_every` seconds meanwhile,
    e.g. to read server RSS from /proc. `clients`: one per message (see
    `build_request`), so that each stream is its own client for the app's
    per-client limits."""
    stop = asyncio.Event()
    lags = []
    helpers = [asyncio.create_task(_watch_loop_lag(lags, stop))]
    if sampler is not None:
        helpers.append(asyncio.create_task(_sample(sampler, stop, sample_every)))
    usage_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    clients = clients or [None] * len(messages)
    results = await asyncio.gather(*(
        _one_stream(host, port, route, m, chunks, timeout, c) for m, c in zip(messages, clients)
    ))
    wall = time.perf_counter() - wall_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    await asyncio.gather(*helpers)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    lags.sort()
    stats = {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "cpu_share": cpu / wall if wall else 0.0,
        "loop_lag_p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        "loop_lag_max_ms": 1000 * lags[-1] if lags else 0.0,
    }
    return results, stats


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
