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
- REST: the GAPIC method, whose iterator holds the `requests` response: it is
  shut down (waking a read blocked in another thread) and closed.

Retries are the app's (app/answers/reply_pipeline.py): none happen here.
"""

import threading

from google.api_core import exceptions as api_exceptions
from google.api_core.gapic_v1 import routing_header

from app.providers.ending import Ending, Usage


class GeminiStream:
    """Iterate one Gemini answer as `str` pieces, then one `Ending`.

    `cancel()` may be called from any thread, before or during the call:
    the upstream request ends at once and the reading thread gets an error.
    """

    def __init__(self, model, messages):
        self._model = model
        self._messages = messages
        self._lock = threading.Lock()
        self._cancel_call = None  # how to end the upstream call, once it is made
        self._cancelled = False
        self._pieces = self._read()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._pieces)

    def close(self):
        """The reader is done with the answer (at its end, or early)."""
        self._pieces.close()
        self.cancel()

    def cancel(self):
        with self._lock:
            self._cancelled = True
            cancel_call, self._cancel_call = self._cancel_call, None
        if cancel_call is not None:
            cancel_call()

    def _opened(self, cancel_call):
        with self._lock:
            if not self._cancelled:
                self._cancel_call = cancel_call
                return
        cancel_call()  # cancelled while the call was being made

    def _read(self):
        model = self._model
        request = model._prepare_request_gemini(messages=self._messages)
        ending = _EndingSeen()
        usage_so_far = None
        for response in self._responses(request):
            chunk, usage_so_far = model._gemini_chunk_to_generation_chunk(response, prev_total_usage=usage_so_far)
            ending.see(response)
            text = chunk.text
            if text:
                yield str(text)
        yield ending.ending()

    def _responses(self, request):
        client = self._model.prediction_client
        if client.transport.kind == "grpc":
            metadata = (*self._model.default_metadata, routing_header.to_grpc_metadata((("model", request.model),)))
            call = client.transport.stream_generate_content(request, metadata=metadata)
            self._opened(call.cancel)
            return _grpc_responses(call)
        responses = client.stream_generate_content(
            request=request, retry=None, timeout=self._model.timeout, metadata=self._model.default_metadata,
        )
        self._opened(lambda: _close_rest_response(responses._response))
        return responses


def _grpc_responses(call):
    """The call's messages, its failure raised as api-core's exception (as the
    GAPIC client would: ResourceExhausted, NotFound, ServiceUnavailable...)."""
    try:
        yield from call
    except Exception as exc:  # grpc.RpcError; grpc is imported only with this transport
        if hasattr(exc, "code") and hasattr(exc, "details"):
            raise api_exceptions.from_grpc_error(exc) from exc
        raise


def _close_rest_response(response):
    # urllib3 >= 2.3: shutting the socket down wakes a read blocked in another
    # thread; closing alone would leave it waiting for Gemini's next byte.
    # Once the body is read or closed there is no socket to shut down.
    shutdown = getattr(response.raw, "shutdown", None)
    if shutdown is not None:
        try:
            shutdown()
        except (RuntimeError, ValueError, OSError):
            pass
    response.close()


class _EndingSeen:
    """What the responses said about the end: finish or block reason, the
    blocking category, and token usage (Gemini's counts are running totals)."""

    def __init__(self):
        self.finish_reason = None
        self.prompt_blocked = False
        self.category = None
        self.usage = None

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
        counts = response.usage_metadata
        if counts.prompt_token_count or counts.candidates_token_count or counts.thoughts_token_count:
            self.usage = Usage(counts.prompt_token_count, counts.candidates_token_count, counts.thoughts_token_count)

    def ending(self):
        return Ending(self.finish_reason, self.prompt_blocked, self.category, self.usage)


def _blocked_category(ratings):
    return next((rating.category.name for rating in ratings if rating.blocked), None)
