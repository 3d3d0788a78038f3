"""A fast local stand-in for Vertex AI's `StreamGenerateContent`, for load benchmarks.

    .venv/bin/python bench/vertex_standin.py --transport grpc|rest [--port P]
        [--ttft-ms 300] [--chunk-ms 50] [--chunks 60] [--nice N] [--cert C --key K]
        [--until-stdin-closes]

Prints `ready <base_url>` on stdout once it listens (port 0: any free port),
then serves until killed (or, with `--until-stdin-closes`, until its stdin
closes: `standin_process()` uses that so that no stand-in outlives a
benchmark that was itself killed). It answers like the fake model
(app/providers/fake.py), so the load generator checks the same byte-exact
echo: the text of the request's LAST `user` content, cut by the fake model's
`split_evenly` (bench/loadgen.py's), piece i sent `ttft + i * chunk` ms after the request
arrived, on the stand-in's own clock (a late reader does not push later pieces
back). Each piece is one GenerateContentResponse (candidates[0].content: role
"model", one text part); the last one also carries finish_reason STOP and
usage_metadata; all carry modelVersion, responseId and createTime, as Vertex's do.

Why not tests/providers/vertex_standin.py, the test suite's stand-in: it
builds proto-plus objects and serves each call from a thread, which is right
for scripted faults but would itself be the bottleneck at a thousand streams
of sixty pieces on two cores. This one is one asyncio loop, wakes at most
once a millisecond for all the pieces then due (`Ticker`), and builds each
piece with `json.dumps` of plain dicts (REST) or the raw upb protobuf classes
(gRPC). At 500 streams it took about 21 us of CPU a piece over REST, most of
it the kernel's loopback send, and about 55-65 us over gRPC, most of it
grpc.aio's own per-message path (about 48 us even with no pacing at all).
It speaks the same wire format (that file's docstring describes it):

- REST (ChatVertexAI transport="rest", base_url `http://127.0.0.1:PORT`):
  HTTP/1.1 with keep-alive; `POST .../models/M:streamGenerateContent` with a
  protobuf-JSON body answers 200 with a chunked body, ONE JSON array, one
  element per HTTP chunk (`[` before the first, `,\\r\\n` between, then `]` and
  the zero-length chunk), enums as numbers.
- gRPC (transport="grpc", base_url `localhost:PORT`, always TLS: the client
  must trust `--cert`, e.g. GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=<cert>):
  `/google.cloud.aiplatform.v1beta1.PredictionService/StreamGenerateContent`,
  unary-stream, on `grpc.aio`.

A client that leaves (REST: its connection closes; gRPC: its call is
cancelled) stops its answer at once. When it stops (SIGTERM, SIGINT) it
writes to stderr how many answers it served, finished and saw abandoned, and
how many pieces it sent late for their due time (if many, it was itself
short of CPU: see `--nice`).

`standin_process()` runs one as a child process for a benchmark.
"""

import argparse
import asyncio
import datetime
import gc
import json
import os
import resource
import secrets
import select
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path

import servers  # noqa: F401 - puts the project on sys.path (for standin_process's certificate)
from loadgen import split_evenly  # the fake model's cut, with nothing loaded from the app

GRPC_SERVICE = "google.cloud.aiplatform.v1beta1.PredictionService"
GRPC_METHOD = "StreamGenerateContent"
REST_METHOD = ":streamGenerateContent"  # the end of the REST path, after the model
FINISH_REASON_STOP = 1  # google.cloud.aiplatform.v1beta1.Candidate.FinishReason.STOP
CHARS_PER_TOKEN = 4  # roughly, for English: only for plausible usage counts


# --- the answer, whatever the transport ----------------------------------------


@dataclass(frozen=True)
class Pacing:
    """The model's profile: `chunks` pieces at most, piece i due `ttft_ms +
    i * chunk_ms` after the request arrived."""

    ttft_ms: int
    chunk_ms: int
    chunks: int

    def due(self, arrival, index):
        return arrival + (self.ttft_ms + index * self.chunk_ms) / 1000


class Ticker:
    """Runs callbacks at their due times, rounded to the nearest millisecond,
    every callback of one millisecond from one timer.

    A thousand streams of a piece every 50 ms are 20,000 pieces a second: one
    asyncio timer each would wake the loop (an epoll_wait, a heap push and pop)
    for nearly every piece. Grouped by millisecond, the loop wakes at most a
    thousand times a second, whatever the load. A piece is at most 0.5 ms off
    its due time, and 0 on average."""

    RESOLUTION = 0.001  # seconds

    def __init__(self):
        self.due = {}  # tick (due time in RESOLUTION units) -> [(callback, argument)]

    def call_at(self, when, callback, argument):
        tick = round(when / self.RESOLUTION)
        calls = self.due.get(tick)
        if calls is None:
            calls = self.due[tick] = []
            asyncio.get_running_loop().call_at(tick * self.RESOLUTION, self.run, tick)
        calls.append((callback, argument))

    def run(self, tick):
        for callback, argument in self.due.pop(tick):
            callback(argument)

    def sleep_until(self, when):
        """A future done at `when` (for a coroutine to await); cancelling it is safe."""
        future = asyncio.get_running_loop().create_future()
        self.call_at(when, wake, future)
        return future


def wake(future):
    if not future.done():  # else its awaiting task was cancelled
        future.set_result(None)


@dataclass(frozen=True)
class Answer:
    """One request's answer: its pieces and what every response repeats."""

    pieces: list
    last: int  # the index of the last response (there is one even without pieces, to end the answer)
    model_version: str
    response_id: str
    create_time: str  # RFC 3339, UTC
    prompt_tokens: int
    answer_tokens: int

    @classmethod
    def echo(cls, contents, model, chunks):
        """The answer to `contents` [(role, text)]: the last user text, cut as the fake model cuts it."""
        prompt = "".join(text for _role, text in contents)
        echoed = next((text for role, text in reversed(contents) if role == "user"), "")
        pieces = split_evenly(echoed, chunks)
        return cls(
            pieces=pieces,
            last=max(0, len(pieces) - 1),
            model_version=model,
            response_id=secrets.token_urlsafe(16),
            create_time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            prompt_tokens=max(1, len(prompt) // CHARS_PER_TOKEN),
            answer_tokens=max(1, len(echoed) // CHARS_PER_TOKEN),
        )


class Counts:
    """Answers served, finished and abandoned by their clients, and how late
    pieces left for their due time, for the exit line: whether the stand-in
    kept its own clock under the load, or was itself the bottleneck."""

    LATE = 0.002  # seconds past due (the ticker alone may add 0.5 ms)

    def __init__(self):
        self.connections = 0  # REST: the clients' connections (keep-alive: fewer than answers)
        self.opened = self.finished = self.abandoned = 0
        self.pieces = self.late = 0
        self.latest = 0.0  # seconds

    def sent(self, due, now):
        """A piece handed to the transport at loop time `now`."""
        self.pieces += 1
        if now - due > self.LATE:
            self.late += 1
            self.latest = max(self.latest, now - due)

    def __str__(self):
        return (f"{self.opened} answers ({self.connections or '-'} connections): {self.finished} finished, "
                f"{self.abandoned} abandoned by the client; {self.pieces} pieces, "
                f"{self.late} sent over {self.LATE * 1000:g} ms late (at worst {self.latest * 1000:.1f} ms)")


# --- REST ------------------------------------------------------------------------


def rest_response(answer, index):
    """Response `index` as protobuf JSON (camelCase, enums as numbers), in plain dicts."""
    candidate = {"content": {"role": "model", "parts": [{"text": answer.pieces[index]}]}} if answer.pieces else {}
    response = {"candidates": [candidate]}
    if index == answer.last:
        candidate["finishReason"] = FINISH_REASON_STOP
        response["usageMetadata"] = {
            "promptTokenCount": answer.prompt_tokens,
            "candidatesTokenCount": answer.answer_tokens,
            "totalTokenCount": answer.prompt_tokens + answer.answer_tokens,
        }
    response.update(modelVersion=answer.model_version, createTime=answer.create_time, responseId=answer.response_id)
    return response


def to_json(value):
    return json.dumps(value, separators=(",", ":")).encode()


def http_chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


class RestBody:
    """The chunked body of one answer, piece by piece: one JSON array, each
    element in its own HTTP chunk (`[` before the first, `,\\r\\n` between), and
    after the last one the closing `]` and the zero-length chunk.

    Every response but the last differs from the others only in its text, so
    its JSON is made once, around a placeholder, and each piece's text (as a
    JSON string) is put in its place."""

    PLACEHOLDER = "\0"

    def __init__(self, answer):
        self.answer = answer
        if answer.pieces:
            marker = to_json(self.PLACEHOLDER)
            template = to_json(rest_response(replace(answer, pieces=[self.PLACEHOLDER], last=1), 0))
            self.before, self.after = template.split(marker)

    def piece(self, index):
        answer = self.answer
        if index == answer.last:
            element = to_json(rest_response(answer, index))
        else:
            element = self.before + to_json(answer.pieces[index]) + self.after
        data = http_chunk((b",\r\n" if index else b"[") + element)
        if index == answer.last:
            data += http_chunk(b"]") + b"0\r\n\r\n"
        return data


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json; charset=UTF-8\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Server: vertex-standin\r\n"
    b"\r\n"
)


def error_response(status, google_status, message, close=False):
    """A whole error answer: Vertex's JSON array holding one error object."""
    body = json.dumps([{"error": {"code": status, "message": message, "status": google_status}}]).encode()
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: %d\r\n%s\r\n%s"
        % (status, HTTPStatus(status).phrase.encode(), len(body), b"Connection: close\r\n" if close else b"", body)
    )


@dataclass
class HttpRequest:
    method: str
    path: str  # without the query string
    headers: dict  # lower-case names
    body: bytes

    @property
    def keep_alive(self):
        return self.headers.get("connection", "").lower() != "close"


class BadRequest(Exception):
    """A request this server cannot read; the connection closes after the error."""


def take_request(buffer):
    """(the first whole request in `buffer`, or None while it is incomplete;
    the bytes it took). Raises BadRequest."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > 65536:
            raise BadRequest("request head too large")
        return None, 0
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise BadRequest("malformed request line") from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length") or 0)
    except ValueError:
        raise BadRequest("malformed Content-Length") from None
    start = end + 4
    if len(buffer) < start + length:
        return None, 0
    body = bytes(buffer[start:start + length])
    return HttpRequest(method, target.split("?", 1)[0], headers, body), start + length


def rest_contents(body):
    """[(role, text)] of a GenerateContentRequest in protobuf JSON."""
    return [
        (content.get("role", ""), "".join(part.get("text", "") for part in content.get("parts", [])))
        for content in json.loads(body).get("contents", [])
    ]


@dataclass(eq=False)
class RestStream:
    """An answer being sent on a connection."""

    body: RestBody
    arrival: float  # loop time the request arrived
    keep_alive: bool
    sent: int = 0  # pieces sent


class RestConnection(asyncio.Protocol):
    """One client connection: requests one after another (keep-alive), each
    answered piece by piece from the ticker, so an answer costs no coroutine
    and no task. A connection that closes drops its answer: the pieces still
    due find it gone and send nothing."""

    def __init__(self, pacing, ticker, counts):
        self.pacing = pacing
        self.ticker = ticker
        self.counts = counts
        self.transport = None
        self.buffer = bytearray()
        self.stream = None  # the RestStream being sent, if any

    def connection_made(self, transport):
        self.transport = transport
        self.counts.connections += 1

    def connection_lost(self, exc):
        if self.stream is not None:
            self.counts.abandoned += 1
            self.stream = None

    def data_received(self, data):
        self.buffer += data
        self.serve_buffered()

    def serve_buffered(self):
        """Start on the next whole request, unless an answer is still being sent."""
        while self.stream is None and not self.transport.is_closing():
            try:
                request, used = take_request(self.buffer)
            except BadRequest as exc:
                self.transport.write(error_response(400, "INVALID_ARGUMENT", str(exc), close=True))
                self.transport.close()
                return
            if request is None:
                return
            del self.buffer[:used]
            self.start(request)

    def start(self, request):
        if request.method != "POST" or not request.path.endswith(REST_METHOD):
            self.transport.write(error_response(404, "NOT_FOUND", f"no stand-in for {request.method} {request.path}"))
            return
        try:
            contents = rest_contents(request.body)
        except (ValueError, AttributeError) as exc:
            self.transport.write(error_response(400, "INVALID_ARGUMENT", f"body is not a request: {exc}"))
            return
        model = request.path.rsplit("/", 1)[-1].split(":", 1)[0]
        answer = Answer.echo(contents, model, self.pacing.chunks)
        self.stream = RestStream(RestBody(answer), asyncio.get_running_loop().time(), request.keep_alive)
        self.counts.opened += 1
        # The head at once, as Vertex does: the client's call is open (and
        # can be cancelled) while it waits for the first piece.
        self.transport.write(STREAM_HEAD)
        self.ticker.call_at(self.pacing.due(self.stream.arrival, 0), self.send, self.stream)

    def send(self, stream):
        if stream is not self.stream:  # the client has gone
            return
        index = stream.sent
        self.transport.write(stream.body.piece(index))
        self.counts.sent(self.pacing.due(stream.arrival, index), asyncio.get_running_loop().time())
        stream.sent += 1
        if index < stream.body.answer.last:
            self.ticker.call_at(self.pacing.due(stream.arrival, stream.sent), self.send, stream)
            return
        self.stream = None
        self.counts.finished += 1
        if stream.keep_alive:
            self.serve_buffered()
        else:
            self.transport.close()


async def serve_rest(port, pacing, counts):
    """Listen on 127.0.0.1:`port`; returns (server, base_url)."""
    loop = asyncio.get_running_loop()
    ticker = Ticker()
    server = await loop.create_server(lambda: RestConnection(pacing, ticker, counts), "127.0.0.1", port, backlog=4096)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


# --- gRPC ------------------------------------------------------------------------


class GrpcAnswers:
    """The gRPC method: parses and builds raw upb protobuf messages (no
    proto-plus wrappers), reusing one response message per answer and
    changing only its text from piece to piece."""

    def __init__(self, pacing, counts):
        from google.cloud.aiplatform_v1beta1.types import GenerateContentRequest, GenerateContentResponse

        self.pacing = pacing
        self.ticker = Ticker()
        self.counts = counts
        self.request_class = GenerateContentRequest.pb()
        self.response_class = GenerateContentResponse.pb()

    def answer(self, request_bytes):
        request = self.request_class.FromString(request_bytes)
        contents = [(content.role, "".join(part.text for part in content.parts)) for content in request.contents]
        return Answer.echo(contents, request.model.rsplit("/", 1)[-1], self.pacing.chunks)

    def messages(self, answer):
        """The serialized responses, in order."""
        response = self.response_class(model_version=answer.model_version, response_id=answer.response_id)
        response.create_time.FromJsonString(answer.create_time)
        candidate = response.candidates.add()
        part = None
        if answer.pieces:
            candidate.content.role = "model"
            part = candidate.content.parts.add()
        for index in range(answer.last + 1):
            if part is not None:
                part.text = answer.pieces[index]
            if index == answer.last:
                candidate.finish_reason = FINISH_REASON_STOP
                usage = response.usage_metadata
                usage.prompt_token_count = answer.prompt_tokens
                usage.candidates_token_count = answer.answer_tokens
                usage.total_token_count = answer.prompt_tokens + answer.answer_tokens
            yield response.SerializeToString()

    async def stream(self, request_bytes, context):
        """The unary-stream handler. A cancelled call cancels its task: the
        pending wait raises, and no further piece is built."""
        loop = asyncio.get_running_loop()
        arrival = loop.time()
        answer = self.answer(request_bytes)
        self.counts.opened += 1
        finished = False
        try:
            for index, message in enumerate(self.messages(answer)):
                due = self.pacing.due(arrival, index)
                if due > loop.time():
                    await self.ticker.sleep_until(due)
                self.counts.sent(due, loop.time())
                yield message
            finished = True
        finally:
            # Cancelled mid-wait, or closed by gRPC between two messages.
            if finished:
                self.counts.finished += 1
            else:
                self.counts.abandoned += 1


async def serve_grpc(port, pacing, counts, cert, key):
    """Listen with TLS on localhost:`port` (the name the certificate is for);
    returns (server, base_url)."""
    import grpc

    answers = GrpcAnswers(pacing, counts)
    # No (de)serializers: the handler takes and yields bytes.
    handler = grpc.unary_stream_rpc_method_handler(answers.stream)
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(GRPC_SERVICE, {GRPC_METHOD: handler}),))
    credentials = grpc.ssl_server_credentials([(Path(key).read_bytes(), Path(cert).read_bytes())])
    bound = server.add_secure_port(f"localhost:{port}", credentials)
    await server.start()
    return server, f"localhost:{bound}"


# --- the process -----------------------------------------------------------------


def set_nice(value):
    """This thread's nice value, before gRPC starts its threads (they inherit
    it; on Linux it is per thread). Lowering it needs CAP_SYS_NICE: best effort."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, value)
    except OSError:
        pass


def raise_fd_limit():
    """As many open files as allowed: one per client connection (REST clients
    open many when their pools overflow)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class StdinWatch(asyncio.Protocol):
    """Calls `stop` when stdin closes: a benchmark that started the stand-in
    holds the other end, so the stand-in goes when it goes, even killed
    outright (its `finally` never ran)."""

    def __init__(self, stop):
        self.stop = stop

    def connection_lost(self, exc):
        self.stop()


async def serve(args):
    pacing = Pacing(args.ttft_ms, args.chunk_ms, args.chunks)
    counts = Counts()
    if args.transport == "rest":
        server, base_url = await serve_rest(args.port, pacing, counts)
    else:
        server, base_url = await serve_grpc(args.port, pacing, counts, args.cert, args.key)
    # What start-up made (gRPC's and protobuf's modules) lives as long as the
    # process: out of the collector's sight, full collections stay short.
    gc.freeze()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if args.until_stdin_closes:
        await loop.connect_read_pipe(lambda: StdinWatch(stopping.set), sys.stdin)
    print(f"ready {base_url}", flush=True)
    await stopping.wait()
    print(f"vertex stand-in ({args.transport}): {counts}", file=sys.stderr, flush=True)
    if args.transport == "rest":
        server.close()
    else:
        await server.stop(grace=0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=("grpc", "rest"), required=True)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (the ready line says which)")
    parser.add_argument("--ttft-ms", type=int, default=300)
    parser.add_argument("--chunk-ms", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=60)
    parser.add_argument("--nice", type=int, default=0,
                        help="its nice value: below the app's, it keeps its clock however busy the machine "
                             "(the real Vertex AI does not share the app's CPU)")
    parser.add_argument("--until-stdin-closes", action="store_true",
                        help="also stop when stdin closes (standin_process: when the benchmark is gone)")
    parser.add_argument("--cert", help="gRPC: the PEM certificate for localhost")
    parser.add_argument("--key", help="gRPC: its PEM private key")
    args = parser.parse_args(argv)
    if args.transport == "grpc" and not (args.cert and args.key):
        parser.error("--transport grpc needs --cert and --key (gRPC is always TLS); "
                     "tests/providers/tls_certificate.make_certificate makes a pair")
    return args


def main(argv=None):
    args = parse_args(argv)
    set_nice(args.nice)
    raise_fd_limit()
    asyncio.run(serve(args))


# --- for benchmarks: the stand-in as a child process ----------------------------


@contextmanager
def standin_process(transport, tmp_path, ttft_ms, chunk_ms, chunks, nice=0, timeout=30.0):
    """Run a stand-in with this Python until the block ends. Yields (base_url,
    pid, cert_path): cert_path (gRPC; else None) is the certificate clients
    must trust. Its stderr goes to `tmp_path`/vertex-standin-<transport>.log."""
    command = [sys.executable, str(Path(__file__).resolve()), "--transport", transport, "--port", "0",
               "--ttft-ms", str(ttft_ms), "--chunk-ms", str(chunk_ms), "--chunks", str(chunks), "--nice", str(nice),
               "--until-stdin-closes"]
    cert_path = None
    if transport == "grpc":
        from tests.providers.tls_certificate import make_certificate

        cert_path, key_path = make_certificate(tmp_path)
        command += ["--cert", str(cert_path), "--key", str(key_path)]
    log_path = Path(tmp_path) / f"vertex-standin-{transport}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        base_url = read_ready_line(process, timeout, log_path)
        yield base_url, process.pid, cert_path
    finally:
        stop_process(process)


def read_ready_line(process, timeout, log_path):
    """The base URL from the stand-in's `ready <base_url>` line: it is
    listening once it says so (no polling a port that may not be its own)."""
    readable, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if readable else ""
    if not line.startswith("ready "):
        stop_process(process)
        raise RuntimeError(f"vertex stand-in did not start (got {line!r}):\n{Path(log_path).read_text()[-3000:]}")
    return line.split(None, 1)[1].strip()


def stop_process(process):
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe:
            pipe.close()


if __name__ == "__main__":
    main()
