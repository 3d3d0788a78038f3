"""A chat model's answer as plain `str` pieces: what the reply pipeline reads.

LangChain's `BaseChatModel.stream()` does bookkeeping on every piece: it opens
a callback run, stamps each chunk with a run id and metadata, reports it to
the callbacks and keeps every chunk to merge them at the end. The app uses
none of that, and under load it was about 40 % of an API worker's CPU
samples (docs/benchmarks.md). So, unless something would consume it, the answer
is read without it:

- the app's own providers (fake, local) are `TextStreamingChatModel`s, whose
  `stream_text(messages)` yields `str` and builds no LangChain objects;
- any other chat model (ChatVertexAI) is read through `_stream`, the method
  every LangChain chat model implements and `stream()` itself calls.

With callbacks on the model, LangSmith tracing, LangChain's debug mode or a
rate limiter, the answer goes through `stream()` as before, so traces and
limits keep working.
"""


from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class TextStreamingChatModel(BaseChatModel):
    """A LangChain chat model written as one method, `stream_text(messages,
    stop)`, that yields `str`. LangChain's `_stream` and `_generate` are built
    on it; the reply pipeline calls it directly."""

    def stream_text(self, messages, stop=None):
        raise NotImplementedError

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = "".join(self.stream_text(messages, stop))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        pieces = self.stream_text(messages, stop)
        try:
            for piece in pieces:
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
    try:
        for chunk in chunks:
            text = chunk_text(chunk)
            if text:
                yield text
    finally:
        # Closing this generator closes the model's stream at once (a
        # client that went away stops the model), not when it is collected.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _implements_stream(model):
    return type(model)._stream is not BaseChatModel._stream


def stream_text(model, messages):
    """Iterate the model's answer to `messages` as non-empty `str` pieces.

    Closing the iterator closes the model's stream.
    """
    if wants_langchain_bookkeeping(model):
        return _texts(model.stream(messages))
    if isinstance(model, TextStreamingChatModel):
        return model.stream_text(messages)
    if _implements_stream(model):
        return _texts(model._stream(messages))
    return _texts(model.stream(messages))  # a model that only answers whole
