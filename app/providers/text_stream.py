"""A chat model's answer as plain `str` pieces: what the reply pipeline reads.

LangChain's `BaseChatModel.stream()` does bookkeeping on every piece: it opens
a callback run, stamps each chunk with a run id and metadata, reports it to
the callbacks and keeps every chunk to merge them at the end. The app uses
none of that, and under load it was about 40 % of an API worker's CPU
samples (docs/benchmarks.md). So, unless something would consume it, the answer
is read without it:

- the app's own providers (fake, local) are `TextStreamingChatModel`s, whose
  `stream_text(messages)` yields `str` and builds no LangChain objects;
- Gemini's model (app/providers/vertexai.py) has a `stream_text` of its own
  that reads the upstream call (app/providers/gemini_stream.py);
- any other chat model is read through `_stream`, the method every LangChain
  chat model implements and `stream()` itself calls.

After its text a stream may yield one `providers.ending.Ending`: how the
answer ended (finish reason, a block, token usage). A stream may also have a
`cancel()` that any thread can call to end the upstream call at once.

With callbacks on the model, LangSmith tracing, LangChain's debug mode or a
rate limiter, the answer goes through `stream()` as before, so traces and
limits keep working.
"""


from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from app.providers.ending import Ending, Usage


class TextStreamingChatModel(BaseChatModel):
    """A LangChain chat model written as one method, `stream_text(messages,
    stop)`, that yields `str`. LangChain's `_stream` and `_generate` are built
    on it; the reply pipeline calls it directly."""

    def stream_text(self, messages, stop=None):
        raise NotImplementedError

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = "".join(piece for piece in self.stream_text(messages, stop) if isinstance(piece, str))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        pieces = self.stream_text(messages, stop)
        try:
            for piece in pieces:
                if isinstance(piece, str):
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            pieces.close()


def chunk_text(chunk):
    """The text of a LangChain chunk; `.text` also flattens Gemini's content blocks."""
    return str(chunk.text)


def _tracing_enabled():
    try:
        from langsmith.utils import tracing_is_enabled
    except ImportError:  # langsmith is optional for langchain-core
        return False
    return bool(tracing_is_enabled())


def wants_langchain_bookkeeping(model):
    """True when something would miss what `stream()` does per piece."""
    from langchain_core.globals import get_debug

    return bool(model.callbacks or getattr(model, "rate_limiter", None) or get_debug() or _tracing_enabled())


def _texts(chunks):
    finish_reason, usage = None, None
    try:
        for chunk in chunks:
            text = chunk_text(chunk)
            if text:
                yield text
            # The finish reason on the last chunk (in `_stream`'s
            # generation_info, which stream() copies into the message's
            # response_metadata) and each chunk's share of the usage.
            info = getattr(chunk, "generation_info", None) or getattr(chunk, "response_metadata", None) or {}
            finish_reason = info.get("finish_reason") or finish_reason
            usage = _add_usage(usage, getattr(getattr(chunk, "message", chunk), "usage_metadata", None))
        if finish_reason not in (None, "FINISH_REASON_UNSPECIFIED"):
            yield Ending(finish_reason, usage=usage)
    finally:
        # Closing this generator closes the model's stream at once (a
        # client that went away stops the model), not when it is collected.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _add_usage(total, usage):
    """`total` (a Usage) plus one chunk's LangChain usage_metadata (its share)."""
    if not usage:
        return total
    total = total or Usage(0, 0)
    reasoning = (usage.get("output_token_details") or {}).get("reasoning")
    return Usage(
        total.input_tokens + usage.get("input_tokens", 0),
        total.output_tokens + usage.get("output_tokens", 0),
        total.reasoning_tokens if reasoning is None else (total.reasoning_tokens or 0) + reasoning,
    )


def _implements_stream(model):
    return type(model)._stream is not BaseChatModel._stream


def stream_text(model, messages, search=False):
    """Iterate the model's answer to `messages` as non-empty `str` pieces
    (with `Thought`s among them, from a model that shares its thinking),
    perhaps followed by an `Ending`. `search` grounds it in Google Search:
    only Gemini's `stream_text` takes it (the app offers it for no other).

    Closing the iterator closes the model's stream.
    """
    if search:
        return model.stream_text(messages, search=True)
    if wants_langchain_bookkeeping(model):
        return _texts(model.stream(messages))
    if callable(getattr(model, "stream_text", None)):
        return model.stream_text(messages)
    if _implements_stream(model):
        return _texts(model._stream(messages))
    return _texts(model.stream(messages))  # a model that only answers whole
