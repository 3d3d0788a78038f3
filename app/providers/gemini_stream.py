"""Gemini's answer read from the upstream call itself: text, how it ended, and
a way to cut the call off from any thread.

LangChain's `ChatVertexAI._stream` loses what a person most needs to know
(see ../shared/GEMINI.md): a blocked question (`prompt_feedback`) is an empty
stream; the finish reason and safety ratings are in `generation_info`, which
its callers of `_stream` never see; and it cannot be cancelled: over REST its
response iterator has no `close()` and stays open (Gemini keeps generating,
and billing) until garbage collection; over gRPC nothing cancels a call that
has gone silent. It is also slow: its per-piece conversion into LangChain
objects, and over REST google-api-core's stream parser, cost 15-20 times the
CPU of everything else the app does for a piece (docs/benchmarks.md).

So this module makes the call with ChatVertexAI's own request
(`_prepare_request_gemini`) and its GAPIC client, and reads the responses a
layer below LangChain (app/providers/gemini_responses.py), keeping the call
so that `cancel()` can end it:

- gRPC: the channel's raw stub, which returns the call at once (api-core's
  wrapper would wait for the first message before returning it, so a call
  silent from the start could not be cancelled); each message is read as the
  raw protobuf under proto-plus's wrapper;
- REST: the GAPIC method, whose `requests` response is read as HTTP chunks
  arrive (app/providers/json_array_stream.py) instead of through its
  iterator; its socket can be shut down (waking the read blocked in the
  reading thread), and the reading thread closes it.

Retries are the app's (app/answers/reply_pipeline.py): none happen here.
"""

import threading

from google.api_core import exceptions as api_exceptions
from google.api_core.gapic_v1 import routing_header
from google.cloud.aiplatform_v1beta1.types import GenerateContentResponse

from app.providers.ending import Ending
from app.providers.gemini_responses import read_json, read_message
from app.providers.json_array_stream import JsonArrayStream
from app.providers.thought import Thought

# Gemini's own tool: Google Search grounds the answer (see providers/grounding.py).
GOOGLE_SEARCH_TOOL = {"google_search": {}}


class GeminiStream:
    """Iterate one Gemini answer as `str` pieces (and `Thought`s, its thought
    summaries, when it shares them), then one `Ending`. With `search`, Google
    Search grounds the answer, and the Ending carries its sources.

    `cancel()` may be called from any thread, before or during the call: the
    upstream request ends at once and the reading thread gets an error.
    `close()` is for the reading thread, when it is done.
    """

    def __init__(self, model, messages, search=False):
        self._model = model
        self._messages = messages
        self._tools = [GOOGLE_SEARCH_TOOL] if search else None
        self._lock = threading.Lock()
        self._call = None  # the upstream call once made: _GrpcCall or _RestCall
        self._cancelled = False
        self._pieces = self._read()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._pieces)

    def close(self):
        self._pieces.close()
        with self._lock:
            self._cancelled = True
            call = self._call
        if call is not None:
            call.close()

    def cancel(self):
        with self._lock:
            self._cancelled = True
            call = self._call
        if call is not None:
            call.cancel()

    def _opened(self, call):
        with self._lock:
            self._call = call
            cancelled = self._cancelled
        if cancelled:  # cancelled while the call was being made
            call.cancel()

    def _read(self):
        request = self._model._prepare_request_gemini(messages=self._messages, tools=self._tools)
        ending = _EndingSeen()
        for facts in self._responses(request):
            ending.see(facts)
            for thought in facts.thoughts:
                yield Thought(thought)
            if facts.text:
                yield facts.text
        yield ending.ending()

    def _responses(self, request):
        """The call's responses as `gemini_responses.ResponseFacts`."""
        client = self._model.prediction_client
        if client.transport.kind == "grpc":
            metadata = (*self._model.default_metadata, routing_header.to_grpc_metadata((("model", request.model),)))
            call = client.transport.stream_generate_content(request, metadata=metadata)
            self._opened(_GrpcCall(call))
            return (read_message(_raw(response)) for response in _grpc_responses(call))
        responses = client.stream_generate_content(
            request=request, retry=None, timeout=self._model.timeout, metadata=self._model.default_metadata,
        )
        # The GAPIC iterator has not read anything yet: its response is read here instead.
        response = responses._response
        self._opened(_RestCall(response))
        return (read_json(element) for element in JsonArrayStream(response.iter_content(chunk_size=None)))


def _raw(response):
    """The protobuf message under a proto-plus response (no copy)."""
    return GenerateContentResponse.pb(response)


class _GrpcCall:
    """gRPC's call object can be cancelled from any thread."""

    def __init__(self, call):
        self._call = call

    def cancel(self):
        self._call.cancel()

    close = cancel


class _RestCall:
    """A `requests` response, read by one thread.

    From another thread it may only be shut down: that wakes the reader,
    blocked waiting for Gemini's next byte, with an error, and the reader
    closes it (`close`). Closing it from another thread would wait for the
    reader's buffer lock; under gevent, where every greenlet is one OS
    thread, that is a reentrant call (or a frozen worker)."""

    def __init__(self, response):
        self._response = response

    def cancel(self):
        # urllib3 >= 2.3. Once the body is read or closed there is no
        # socket to shut down.
        shutdown = getattr(self._response.raw, "shutdown", None)
        if shutdown is not None:
            try:
                shutdown()
            except (RuntimeError, ValueError, OSError):
                pass

    def close(self):
        self.cancel()
        self._response.close()


def _grpc_responses(call):
    """The call's messages, its failure raised as api-core's exception (as the
    GAPIC client would: ResourceExhausted, NotFound, ServiceUnavailable...)."""
    try:
        yield from call
    except Exception as exc:  # grpc.RpcError; grpc is imported only with this transport
        if hasattr(exc, "code") and hasattr(exc, "details"):
            raise api_exceptions.from_grpc_error(exc) from exc
        raise


class _EndingSeen:
    """What the responses said about the end: finish or block reason, the
    blocking category, token usage (Gemini's counts are running totals) and
    the grounding (sent with the last responses)."""

    def __init__(self):
        self.finish_reason = None
        self.prompt_blocked = False
        self.category = None
        self.usage = None
        self.grounding = None

    def see(self, facts):
        if facts.prompt_block:
            self.finish_reason, self.prompt_blocked = facts.prompt_block, True
        if facts.finish_reason:
            self.finish_reason = facts.finish_reason
        self.category = facts.category or self.category
        self.grounding = facts.grounding or self.grounding
        self.usage = facts.usage or self.usage

    def ending(self):
        return Ending(self.finish_reason, self.prompt_blocked, self.category, self.usage, self.grounding)
