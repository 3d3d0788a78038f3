"""Gemini's answer read from the upstream call itself: text, how it ended, and
a way to cut the call off from any thread.

LangChain's `ChatVertexAI._stream` loses what a person most needs to know
(see ../shared/GEMINI.md): a blocked question (`prompt_feedback`) is an empty
stream; the finish reason and safety ratings are in `generation_info`, which
its callers of `_stream` never see; and it cannot be cancelled: over REST its
response iterator has no `close()` and stays open (Gemini keeps generating,
and billing) until garbage collection; over gRPC nothing cancels a call that
has gone silent. So this module makes the call itself, with ChatVertexAI's
own request (`_prepare_request_gemini`) and chunk conversion
(`_gemini_chunk_to_generation_chunk`, which keeps thoughts out of the text),
and keeps the call so that `cancel()` can end it:

- gRPC: the channel's raw stub, which returns the call at once (api-core's
  wrapper would wait for the first message before returning it, so a call
  silent from the start could not be cancelled);
- REST: the GAPIC method, whose iterator holds the `requests` response: its
  socket is shut down (waking the read blocked in the reading thread), and
  the reading thread closes it.

Retries are the app's (app/answers/reply_pipeline.py): none happen here.
"""

import threading

from google.api_core import exceptions as api_exceptions
from google.api_core.gapic_v1 import routing_header

from app.providers.ending import Ending, Usage
from app.providers.grounding import from_gemini
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
        model = self._model
        request = model._prepare_request_gemini(messages=self._messages, tools=self._tools)
        ending = _EndingSeen()
        usage_so_far = None
        for response in self._responses(request):
            chunk, usage_so_far = model._gemini_chunk_to_generation_chunk(response, prev_total_usage=usage_so_far)
            ending.see(response)
            for thought in _thoughts(response):
                yield Thought(thought)
            text = chunk.text
            if text:
                yield str(text)
        yield ending.ending()

    def _responses(self, request):
        client = self._model.prediction_client
        if client.transport.kind == "grpc":
            metadata = (*self._model.default_metadata, routing_header.to_grpc_metadata((("model", request.model),)))
            call = client.transport.stream_generate_content(request, metadata=metadata)
            self._opened(_GrpcCall(call))
            return _grpc_responses(call)
        responses = client.stream_generate_content(
            request=request, retry=None, timeout=self._model.timeout, metadata=self._model.default_metadata,
        )
        self._opened(_RestCall(responses._response))
        return responses


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


def _thoughts(response):
    """The thought summaries in a response (parts marked `thought`), which the
    chunk's `.text` leaves out."""
    if not response.candidates:
        return []
    return [part.text for part in response.candidates[0].content.parts if part.thought and part.text]


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

    def see(self, response):
        feedback = response.prompt_feedback
        if feedback.block_reason:
            self.finish_reason, self.prompt_blocked = feedback.block_reason.name, True
            self.category = _blocked_category(feedback.safety_ratings) or self.category
        if response.candidates:
            candidate = response.candidates[0]
            if candidate.finish_reason:
                self.finish_reason = candidate.finish_reason.name
                self.category = _blocked_category(candidate.safety_ratings) or self.category
            if candidate.grounding_metadata:
                self.grounding = from_gemini(candidate.grounding_metadata) or self.grounding
        counts = response.usage_metadata
        if counts.prompt_token_count or counts.candidates_token_count or counts.thoughts_token_count:
            self.usage = Usage(counts.prompt_token_count, counts.candidates_token_count, counts.thoughts_token_count)

    def ending(self):
        return Ending(self.finish_reason, self.prompt_blocked, self.category, self.usage, self.grounding)


def _blocked_category(ratings):
    return next((rating.category.name for rating in ratings if rating.blocked), None)
