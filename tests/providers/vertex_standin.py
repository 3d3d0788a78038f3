"""A local stand-in for Vertex AI's REST `streamGenerateContent`, stdlib only.

ChatVertexAI(transport="rest", base_url="http://127.0.0.1:PORT") goes through
google-cloud-aiplatform's v1beta1 REST transport, which sends

    POST /v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent?%24alt=json%3Benum-encoding%3Dint
    Content-Type: application/json
    body: a GenerateContentRequest as JSON (camelCase: contents, generationConfig, ...)

(see aiplatform_v1beta1/services/prediction_service/transports/rest_base.py),
and reads the answer with google.api_core.rest_streaming.ResponseIterator: a
single JSON array of GenerateContentResponse objects, `[{...},{...}]`, parsed
incrementally as bytes arrive. Vertex sends that array with chunked transfer
encoding, one response object per HTTP chunk, and so does this server. A status
>= 400 is turned into a google.api_core exception by `from_http_response`
(429 -> TooManyRequests, 500 -> InternalServerError, 503 -> ServiceUnavailable).

Usage (as a context manager, or through a pytest fixture that wraps one):

    with VertexStandIn() as standin:
        standin.respond(Script(pieces=["Hel", "lo"], delay=0.01))
        ... ChatVertexAI(base_url=standin.base_url, transport="rest", ...) ...
        standin.requests[0].body["contents"]   # what the client sent

Each request is served by the next queued `Script`; the last one repeats.
"""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Canonical Google error statuses, as found in the `error.status` field.
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_STATUS_MESSAGES = {
    429: "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


@dataclass
class Script:
    """What the stand-in does for one request.

    pieces          text served one GenerateContentResponse each, in order
    delay           seconds to wait before each piece
    status          an HTTP error status (429, 500, 503, ...) sent instead of
                    the stream, with a Google-style JSON error body
    cut_after       after this many pieces, close the socket mid-body (no
                    closing `]`, no terminating zero-length chunk)
    stall_after     after this many pieces, send nothing for `stall_seconds`,
                    then carry on
    malformed_after after this many pieces, send bytes that are not a JSON
                    object, then close the array and end the body properly
    """

    pieces: list = field(default_factory=lambda: ["Hello", ", ", "world"])
    delay: float = 0.0
    status: int | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    malformed_after: int | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict  # parse_qs of the query string
    headers: dict
    body: object  # parsed JSON, or the raw text if it was not JSON

    @property
    def texts(self):
        """[(role, text)] of the request's `contents`: the conversation sent."""
        out = []
        for content in (self.body or {}).get("contents", []) if isinstance(self.body, dict) else []:
            text = "".join(part.get("text", "") for part in content.get("parts", []))
            out.append((content.get("role", ""), text))
        return out


def response_object(text, model_version, final=False, prompt_tokens=0, answer_tokens=0):
    """One GenerateContentResponse in Vertex's JSON form (camelCase)."""
    candidate = {"content": {"role": "model", "parts": [{"text": text}]}}
    obj = {"candidates": [candidate], "modelVersion": model_version}
    if final:
        candidate["finishReason"] = "STOP"
        obj["usageMetadata"] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
        }
    return obj


def error_body(status):
    """Google's error shape. For streamGenerateContent Vertex wraps it in an
    array, like the successful stream; api_core accepts both forms."""
    error = {
        "code": status,
        "message": _STATUS_MESSAGES.get(status, "Error."),
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    return [{"error": error}]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that chunked transfer encoding and keep-alive are allowed.
    protocol_version = "HTTP/1.1"
    server_version = "VertexStandIn/1"

    @property
    def standin(self):
        return self.server.standin

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def setup(self):
        super().setup()
        self.standin._track(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.standin._untrack(self.connection)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        url = urlsplit(self.path)
        self.standin._record(
            RecordedRequest("POST", url.path, parse_qs(url.query), dict(self.headers.items()), body)
        )
        if not url.path.startswith("/v1beta1/") or not url.path.endswith(":streamGenerateContent"):
            self._send_json(404, [{"error": {"code": 404, "message": f"no stand-in for {url.path}", "status": "NOT_FOUND"}}])
            return
        self._stream(self.standin._next_script(), url.path.rsplit("/", 1)[-1].split(":")[0])

    def _send_json(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, text):
        """Write one HTTP/1.1 chunk (hex size line, data, CRLF) and flush it."""
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, script, model):
        if script.status is not None:
            self._send_json(script.status, error_body(script.status))
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        pieces = list(script.pieces)
        for index, piece in enumerate(pieces):
            if script.cut_after == index:
                self._cut()
                return
            if script.malformed_after == index:
                # Not a JSON object: the client's incremental parser collects
                # it into an "object" that protobuf's JSON parser then rejects.
                self._chunk(("," if index else "[") + "{not json: <html>")
                self._chunk("}]")
                self._chunk("")  # the zero-length chunk: the body ends properly
                return
            if script.stall_after == index and script.stall_seconds:
                # Interruptible, so stopping the server does not wait it out.
                self.standin._closing.wait(script.stall_seconds)
            if script.delay:
                self.standin._closing.wait(script.delay)
            if self.standin._closing.is_set():
                return
            obj = response_object(
                piece, model, final=index == len(pieces) - 1, prompt_tokens=5, answer_tokens=len(pieces)
            )
            # Like Vertex: "[" before the first object, ",\r\n" between them.
            self._chunk(("[" if index == 0 else ",\r\n") + json.dumps(obj))
        if script.cut_after is not None and script.cut_after >= len(pieces):
            self._cut()
            return
        self._chunk("[]" if not pieces else "]")
        self._chunk("")

    def _cut(self):
        """Drop the connection mid-body: the client sees a chunked body that
        ends before its terminating zero-length chunk."""
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class VertexStandIn:
    """The server: starts on 127.0.0.1 on a free port, in a daemon thread."""

    def __init__(self):
        self.requests = []
        self._scripts = [Script()]
        self._lock = threading.Lock()
        self._connections = set()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self._thread = None

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, *scripts, **script_fields):
        """Queue scripts for the next requests (the last one repeats), or pass
        Script fields directly: `respond(pieces=[...], delay=0.01)`."""
        if script_fields:
            scripts = (*scripts, Script(**script_fields))
        if not scripts:
            raise ValueError("respond() needs a Script or Script fields")
        with self._lock:
            self._scripts = list(scripts)

    def _next_script(self):
        with self._lock:
            return self._scripts.pop(0) if len(self._scripts) > 1 else self._scripts[0]

    def _record(self, request):
        with self._lock:
            self.requests.append(request)

    def _track(self, connection):
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection):
        with self._lock:
            self._connections.discard(connection)

    def start(self):
        # A short poll interval so that stop() (server.shutdown) returns quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="vertex-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        self._closing.set()  # wakes stalled handlers
        self._server.shutdown()
        # Keep-alive connections would otherwise hold their handler threads.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
