"""A local stand-in for Vertex AI's v1beta1 `StreamGenerateContent`, on either
transport ChatVertexAI speaks, built from google-cloud-aiplatform's own types.

Every answer is a list of `aiplatform_v1beta1.types.GenerateContentResponse`
objects (see `build_responses`); only the wire around them differs.

REST: `VertexStandIn(transport="rest")`, base_url `http://127.0.0.1:PORT`.
ChatVertexAI(transport="rest") sends

    POST /v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent?%24alt=json%3Benum-encoding%3Dint
    Content-Type: application/json
    body: the GenerateContentRequest as protobuf JSON, camelCase, enums as
          numbers, without `model` (it is in the path)

(aiplatform_v1beta1/services/prediction_service/transports/rest.py and
_compat.transcode_request) and reads the answer with
google.api_core.rest_streaming.ResponseIterator: ONE JSON array of responses,
parsed incrementally as bytes arrive. Like Vertex, this server sends the array
with chunked transfer encoding, one element per HTTP chunk, `[` before the first
and `,\\r\\n` between them, each element pretty-printed protobuf JSON (enums as
numbers, as `enum-encoding=int` asks). A status >= 400 sent instead is a JSON
array holding one `{"error": {"code", "message", "status"}}`, turned into a
google.api_core exception by `from_http_response`. An error after some
responses is a last `{"error": ...}` element, as Google sends it.

gRPC: `VertexStandIn(transport="grpc")`, base_url `localhost:PORT` (host:port,
no scheme: ChatVertexAI uses it as the gRPC target, always over TLS). The
server-streaming method
`/google.cloud.aiplatform.v1beta1.PredictionService/StreamGenerateContent`
sends each response as one serialized protobuf message; errors are gRPC statuses
with Google's messages. The server's certificate is tests/providers/
tls_certificate.session_certificate(), which clients trust only if
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH was set before the process's first secure
channel (call session_certificate() early, e.g. in conftest).

Usage (as a context manager, or through a pytest fixture that wraps one):

    with VertexStandIn(transport="grpc") as standin:
        standin.respond(Script(pieces=["Hel", "lo"], delay=0.01))
        ... ChatVertexAI(base_url=standin.base_url, transport="grpc", ...) ...
        standin.requests[0].texts      # [(role, text)] the client sent
        standin.requests[0].gone       # set if the client left mid-answer

Each request is served by the next queued `Script`; the last one repeats.
"""

import datetime
import json
import select
import socket
import threading
import time
import uuid
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import grpc
from google.cloud.aiplatform_v1beta1.types import (
    Candidate,
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    GroundingChunk,
    GroundingMetadata,
    GroundingSupport,
    HarmCategory,
    Modality,
    ModalityTokenCount,
    Part,
    SafetyRating,
    Segment,
)
from google.protobuf import json_format

from tests.providers.tls_certificate import session_certificate

GRPC_SERVICE = "google.cloud.aiplatform.v1beta1.PredictionService"
GRPC_METHOD_PATH = f"/{GRPC_SERVICE}/StreamGenerateContent"

# How often a waiting handler looks whether its client has left.
_POLL_SECONDS = 0.05

# HTTP status -> the gRPC code Google uses for it, and Google's message;
# `{resource}` is the model's resource name (projects/.../models/...).
_ERRORS = {
    400: (grpc.StatusCode.INVALID_ARGUMENT, "Request contains an invalid argument."),
    401: (
        grpc.StatusCode.UNAUTHENTICATED,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: (
        grpc.StatusCode.PERMISSION_DENIED,
        "Permission 'aiplatform.endpoints.predict' denied on resource "
        "'//aiplatform.googleapis.com/{resource}' (or it may not exist).",
    ),
    404: (grpc.StatusCode.NOT_FOUND, "Publisher Model `{resource}` not found."),
    429: (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    ),
    500: (grpc.StatusCode.INTERNAL, "Internal error encountered."),
    503: (grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."),
    504: (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline expired before operation could complete."),
}

# What a gRPC client reports when the TCP connection under its call closes
# (observed by cutting a relayed connection mid-stream). Aborting with it looks
# the same to the client, reliably after the responses sent before, and leaves
# other calls on the same connection alone: the stand-in's `cut` for gRPC.
_GRPC_CUT = (grpc.StatusCode.UNAVAILABLE, "Stream removed (Socket closed)")

# The categories Vertex rates on a blocked candidate.
_RATED_CATEGORIES = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)


@dataclass
class Script:
    """What the stand-in does for one request.

    pieces           text parts, one GenerateContentResponse each, in order
    thoughts         thought parts (`thought: true`), one response each,
                     sent before the pieces
    delay            seconds to wait before each response
    finish_reason    Candidate.FinishReason name on the last response
                     ("STOP", "MAX_TOKENS", "SAFETY", ...); None: none
    blocked_category with a block finish reason ("SAFETY", ...) or a
                     prompt_block: the last candidate's (or the prompt
                     feedback's) safety ratings (the usual four categories
                     and this one) mark this HarmCategory blocked, HIGH;
                     the others NEGLIGIBLE
    finish_message   Candidate.finish_message on the last response (also the
                     block_reason_message of a prompt_block)
    prompt_block     a PromptFeedback.BlockedReason name ("SAFETY",
                     "PROHIBITED_CONTENT", ...): the answer is one response
                     without candidates, carrying prompt_feedback, as Vertex
                     answers a blocked prompt
    grounding        Google Search grounding on the last response, as Vertex
                     sends it: {"sources": [(uri, title)], "supports":
                     [(segment text, [source indices])], "queries": [...]};
                     each segment is found in the answer's text and its
                     start/end given in UTF-8 bytes, as Vertex counts them
    usage            (prompt, candidates or None for len(pieces), thoughts)
                     token counts, as usage_metadata on the last response;
                     None: no usage
    prompt_details   the prompt's tokens by modality, {"TEXT": 12,
                     "IMAGE": 258}: usage_metadata.prompt_tokens_details
                     with the usage, as Vertex counts an attached file
    status           an error status (400, 401, 403, 404, 429, 500, 503, 504)
                     sent instead of any response

    The counts below are of responses, thoughts included. A fault after N
    responses (N >= their number: after the last one) ends the answer; the
    earliest one wins.
    cut_after        the connection drops. REST: the socket closes mid-body
                     (no closing `]`, no last chunk). gRPC: the status a
                     client sees for a dropped connection, UNAVAILABLE
                     "Stream removed (Socket closed)"
    error_after      the stream ends with `error_status`. REST: a last
                     `{"error": ...}` element, then `]`, a proper end.
                     gRPC: that status
    malformed_after  REST only: an element that is not JSON, then `]`
    stall_after      before response N (0: the first), send nothing for
                     `stall_seconds`
    """

    pieces: list = field(default_factory=lambda: ["Hello", ", ", "world"])
    thoughts: list = field(default_factory=list)
    grounding: dict | None = None
    delay: float = 0.0
    finish_reason: str | None = "STOP"
    blocked_category: str | None = None
    finish_message: str | None = None
    prompt_block: str | None = None
    usage: tuple | None = (5, None, 0)
    prompt_details: dict | None = None
    status: int | None = None
    cut_after: int | None = None
    error_after: int | None = None
    error_status: int = 500
    malformed_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0


@dataclass(eq=False)
class RecordedRequest:
    """One request as the stand-in saw it, and what became of it."""

    method: str
    path: str  # REST: without the query string; gRPC: the method path
    query: dict  # REST: parse_qs of the query string; gRPC: {}
    headers: dict  # REST: HTTP headers; gRPC: invocation metadata
    body: object  # the request as REST sends it: camelCase JSON, parsed (or raw text if not JSON)
    model: str = ""  # the model id, e.g. "gemini-2.5-flash"
    peer: tuple = ()  # REST: the client's (address, port), which names its connection
    pieces_sent: int = 0  # responses handed to the transport, thoughts included
    started_at: float = field(default_factory=time.monotonic)
    gone_at: float | None = None  # time.monotonic() when `gone` was set
    gone: threading.Event = field(default_factory=threading.Event)  # the client left mid-answer
    finished: threading.Event = field(default_factory=threading.Event)  # the handler ended, for any reason

    @property
    def texts(self):
        """[(role, text)] of the request's `contents`: the conversation sent."""
        out = []
        for content in (self.body or {}).get("contents", []) if isinstance(self.body, dict) else []:
            text = "".join(part.get("text", "") for part in content.get("parts", []))
            out.append((content.get("role", ""), text))
        return out

    def _mark_gone(self):
        if self.gone_at is None:
            self.gone_at = time.monotonic()
        self.gone.set()


def build_responses(script, model_id):
    """The GenerateContentResponses `script` answers with, for `model_id`."""
    prompt_tokens, answer_tokens, thought_tokens = script.usage or (0, 0, 0)
    if answer_tokens is None:
        answer_tokens = len(script.pieces)
    # Every chunk of one answer carries the model version, id and time.
    common = dict(
        model_version=model_id,
        response_id=uuid.uuid4().hex[:22],
        create_time=datetime.datetime.now(datetime.timezone.utc),
    )
    if script.prompt_block:
        feedback = GenerateContentResponse.PromptFeedback(
            block_reason=GenerateContentResponse.PromptFeedback.BlockedReason[script.prompt_block],
            block_reason_message=script.finish_message
            or f"The prompt is blocked due to {script.prompt_block.lower().replace('_', ' ')}.",
        )
        if script.blocked_category:  # as for an answer: the category that blocked it, among the usual ones
            categories = dict.fromkeys((*_RATED_CATEGORIES, script.blocked_category))
            feedback.safety_ratings = [_rating(name, blocked=name == script.blocked_category) for name in categories]
        response = GenerateContentResponse(prompt_feedback=feedback, **common)
        if script.usage:
            response.usage_metadata = GenerateContentResponse.UsageMetadata(
                prompt_token_count=prompt_tokens, total_token_count=prompt_tokens
            )
        return [response]

    parts = [Part(text=text, thought=True) for text in script.thoughts] + [Part(text=text) for text in script.pieces]
    # No parts at all: one response without content still ends the answer.
    candidates = [Candidate(content=Content(role="model", parts=[part])) for part in parts] or [Candidate()]
    last = candidates[-1]
    if script.finish_reason:
        last.finish_reason = Candidate.FinishReason[script.finish_reason]
    if script.finish_message:
        last.finish_message = script.finish_message
    if script.blocked_category:
        categories = dict.fromkeys((*_RATED_CATEGORIES, script.blocked_category))
        last.safety_ratings = [_rating(name, blocked=name == script.blocked_category) for name in categories]
    if script.grounding:
        last.grounding_metadata = _grounding_metadata(script.grounding, "".join(script.pieces))
    responses = [GenerateContentResponse(candidates=[candidate], **common) for candidate in candidates]
    if script.usage:
        # Vertex sends the counts for the whole answer on its last chunk.
        responses[-1].usage_metadata = GenerateContentResponse.UsageMetadata(
            prompt_token_count=prompt_tokens,
            candidates_token_count=answer_tokens,
            thoughts_token_count=thought_tokens,
            total_token_count=prompt_tokens + answer_tokens + thought_tokens,
            prompt_tokens_details=[ModalityTokenCount(modality=Modality[name], token_count=tokens)
                                   for name, tokens in (script.prompt_details or {}).items()],
        )
    return responses


def _grounding_metadata(grounding, answer):
    """GroundingMetadata whose supports point at their segments in `answer` by
    UTF-8 byte offsets (Vertex leaves a 0 start out, as proto3 does)."""
    supports = []
    for segment_text, indices in grounding.get("supports", []):
        start = answer.index(segment_text)
        start_byte = len(answer[:start].encode("utf-8"))
        supports.append(GroundingSupport(
            segment=Segment(start_index=start_byte, end_index=start_byte + len(segment_text.encode("utf-8")),
                            text=segment_text),
            grounding_chunk_indices=list(indices),
            confidence_scores=[0.9] * len(indices),
        ))
    return GroundingMetadata(
        web_search_queries=list(grounding.get("queries", [])),
        grounding_chunks=[GroundingChunk(web=GroundingChunk.Web(uri=uri, title=title))
                          for uri, title in grounding.get("sources", [])],
        grounding_supports=supports,
    )


def _rating(category, blocked):
    level = "HIGH" if blocked else "NEGLIGIBLE"
    return SafetyRating(
        category=HarmCategory[category],
        probability=SafetyRating.HarmProbability[level],
        severity=SafetyRating.HarmSeverity[f"HARM_SEVERITY_{level}"],
        blocked=blocked,
    )


def _pacing(script, responses):
    """([(seconds to wait, response)] up to the script's first fault, that
    fault: "cut", "error", "malformed" or None)."""
    faults = [
        (min(after, len(responses)), name)
        for name, after in (
            ("cut", script.cut_after),
            ("error", script.error_after),
            ("malformed", script.malformed_after),
        )
        if after is not None
    ]
    stop_at, fault = min(faults, default=(len(responses), None))
    paced = [
        (script.delay + (script.stall_seconds if index == script.stall_after else 0), response)
        for index, response in enumerate(responses[:stop_at])
    ]
    return paced, fault


def _google_error(status, resource):
    """(gRPC code, message) for an HTTP error status."""
    code, message = _ERRORS.get(status, (grpc.StatusCode.UNKNOWN, "Unknown error."))
    return code, message.format(resource=resource)


def _rest_error(status, resource):
    """Google's JSON error object for `status`."""
    code, message = _google_error(status, resource)
    return {"error": {"code": status, "message": message, "status": code.name}}


class _RestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that chunked transfer encoding and keep-alive are allowed.
    protocol_version = "HTTP/1.1"
    server_version = "VertexStandIn/2"

    @property
    def standin(self):
        return self.server.standin

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def setup(self):
        super().setup()
        self.server.track(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        url = urlsplit(self.path)
        # projects/P/locations/L/publishers/google/models/M
        resource = url.path.removeprefix("/v1beta1/").rsplit(":", 1)[0]
        request = RecordedRequest(
            "POST", url.path, parse_qs(url.query), dict(self.headers.items()), body, model=resource.rsplit("/", 1)[-1],
            peer=tuple(self.client_address[:2]),
        )
        self.standin._record(request)
        try:
            if not url.path.startswith("/v1beta1/") or not url.path.endswith(":streamGenerateContent"):
                error = {"code": 404, "message": f"no stand-in for {url.path}", "status": "NOT_FOUND"}
                self._send_json(404, [{"error": error}])
            else:
                # Enums as numbers when asked, as the GAPIC client does (and Google honours).
                numeric_enums = "enum-encoding=int" in "".join(request.query.get("$alt", []))
                self._answer(request, resource, self.standin._next_script(), numeric_enums)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.standin._client_gone(request)
        finally:
            request.finished.set()

    def _send_json(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, request, resource, script, numeric_enums):
        if script.status is not None:
            # Vertex wraps the error in an array, like the stream it replaces.
            self._send_json(script.status, [_rest_error(script.status, resource)])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        self._elements = 0
        paced, fault = _pacing(script, build_responses(script, request.model))
        for wait, response in paced:
            if not self.standin._pause(request, wait, self._client_left):
                self.close_connection = True
                return
            self._element(
                type(response).to_json(
                    response, use_integers_for_enums=numeric_enums, always_print_fields_with_no_presence=False
                )
            )
            request.pieces_sent += 1
        if fault == "cut":
            self._cut()
            return
        if fault == "error":
            self._element(json.dumps(_rest_error(script.error_status, resource), indent=2))
        elif fault == "malformed":
            # Not JSON: the client's incremental parser collects it into an
            # "object" that protobuf's JSON parser then rejects.
            self._element("{not json: <html>}")
        self._chunk("]" if self._elements else "[]")
        self._chunk("")  # the zero-length chunk: the body ends properly

    def _element(self, text):
        """One array element in its own HTTP chunk: `[` before the first, `,\\r\\n` between."""
        self._chunk((",\r\n" if self._elements else "[") + text)
        self._elements += 1

    def _chunk(self, text):
        """Write one HTTP/1.1 chunk (hex size line, data, CRLF) and flush it."""
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _client_left(self, timeout):
        """Whether the client has closed its end, waiting up to `timeout` to
        see: a client reading the stream sends nothing more, so a readable
        socket means end of file (or a reset)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], timeout)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    def _cut(self):
        """Drop the connection mid-body: the client sees a chunked body that
        ends before its terminating zero-length chunk."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _RestServer(ThreadingHTTPServer):
    """HTTP/1.1 on 127.0.0.1, a free port, served from a daemon thread."""

    daemon_threads = True

    def __init__(self, standin):
        super().__init__(("127.0.0.1", 0), _RestHandler)
        self.standin = standin
        self._connections = set()
        self._lock = threading.Lock()
        self._thread = None

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def track(self, connection):
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection):
        with self._lock:
            self._connections.discard(connection)

    def start(self):
        # A short poll interval so that stop() (self.shutdown) returns quickly.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="vertex-standin-rest", daemon=True
        )
        self._thread.start()

    def stop(self):
        self.shutdown()
        # Keep-alive connections would otherwise hold their handler threads.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        self._thread.join(timeout=5)


class _GrpcServer:
    """grpc.server with TLS on localhost, a free port; one pool thread per call."""

    def __init__(self, standin, certificate):
        self._standin = standin
        self._executor = futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="vertex-standin-grpc")
        self._server = grpc.server(self._executor)
        handler = grpc.unary_stream_rpc_method_handler(
            self._stream,
            request_deserializer=GenerateContentRequest.deserialize,
            response_serializer=GenerateContentResponse.serialize,
        )
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(GRPC_SERVICE, {"StreamGenerateContent": handler}),)
        )
        cert_path, key_path = certificate
        credentials = grpc.ssl_server_credentials([(Path(key_path).read_bytes(), Path(cert_path).read_bytes())])
        # "localhost", the name the certificate is for, on IPv4 and IPv6 alike.
        self._port = self._server.add_secure_port("localhost:0", credentials)

    @property
    def base_url(self):
        return f"localhost:{self._port}"

    def start(self):
        self._server.start()

    def stop(self):
        # grace=0 cancels the calls in flight; their handlers see _closing.
        self._server.stop(grace=0).wait(5)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _stream(self, message, context):
        standin = self._standin
        body = json_format.MessageToDict(GenerateContentRequest.pb(message), use_integers_for_enums=True)
        body.pop("model", None)  # REST sends it in the path, not the body
        metadata = dict(context.invocation_metadata())
        request = RecordedRequest("POST", GRPC_METHOD_PATH, {}, metadata, body, model=message.model.rsplit("/", 1)[-1])
        standin._record(request)
        # Runs when the call ends for any reason; before the handler has
        # finished that means the client cancelled or its connection closed.
        context.add_callback(lambda: request.finished.is_set() or standin._client_gone(request))
        try:
            script = standin._next_script()
            if script.status is not None:
                context.abort(*_google_error(script.status, message.model))
            paced, fault = _pacing(script, build_responses(script, request.model))
            for wait, response in paced:
                if not standin._pause(request, wait, request.gone.wait):
                    return
                request.pieces_sent += 1
                # gRPC stops asking for more when the call is over; the
                # generator is then closed when dropped, reaching `finally`.
                yield response
            if fault == "cut":
                context.abort(*_GRPC_CUT)
            elif fault == "error":
                context.abort(*_google_error(script.error_status, message.model))
        finally:
            request.finished.set()


class VertexStandIn:
    """The stand-in server: `transport` "rest" or "grpc"; `certificate`
    (cert_path, key_path) for gRPC's TLS, the session's by default."""

    def __init__(self, transport="rest", certificate=None):
        self.transport = transport
        self.requests = []
        self._scripts = [Script()]
        self._lock = threading.Lock()
        self._closing = threading.Event()
        if transport == "rest":
            self._server = _RestServer(self)
        elif transport == "grpc":
            self._server = _GrpcServer(self, certificate or session_certificate())
        else:
            raise ValueError(f"transport must be 'rest' or 'grpc', not {transport!r}")

    @property
    def base_url(self):
        return self._server.base_url

    def respond(self, *scripts, **script_fields):
        """Queue scripts for the next requests (the last one repeats), or pass
        Script fields directly: `respond(pieces=[...], delay=0.01)`."""
        if script_fields:
            scripts = (*scripts, Script(**script_fields))
        if not scripts:
            raise ValueError("respond() needs a Script or Script fields")
        for script in scripts:
            build_responses(script, "check")  # a misspelt enum name fails here, not in the server
            if script.malformed_after is not None and self.transport != "rest":
                raise ValueError("malformed_after exists for REST only: gRPC messages are protobuf bytes")
        with self._lock:
            self._scripts = list(scripts)

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._closing.set()  # wakes waiting handlers
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # --- for the transports ---

    def _next_script(self):
        with self._lock:
            return self._scripts.pop(0) if len(self._scripts) > 1 else self._scripts[0]

    def _record(self, request):
        with self._lock:
            self.requests.append(request)

    def _client_gone(self, request):
        # Connections closed by stop() are not a client leaving.
        if not self._closing.is_set():
            request._mark_gone()

    def _pause(self, request, seconds, client_left):
        """Wait `seconds` (0: just look), checking every 50 ms whether the
        client has left: `client_left(timeout)` waits up to `timeout` and says.
        True if the answer should go on."""
        deadline = time.monotonic() + seconds
        while not self._closing.is_set():
            if client_left(max(0.0, min(deadline - time.monotonic(), _POLL_SECONDS))):
                self._client_gone(request)
                return False
            if time.monotonic() >= deadline:
                return True
        return False
