"""A deterministic, timed chat model for tests and load tests.

Its reply is exactly the last user message, cut into `chunks` nearly equal
pieces (fewer when the message is shorter), after `ttft_ms` and then every
`chunk_ms`. Benchmarks rely on the reply being byte-for-byte the message.
"""

import threading
import time

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class StreamCounter:
    """Counts the fake model's streams that are open, so tests can see a close."""

    def __init__(self):
        self._lock = threading.Lock()
        self.open = 0
        self.closed = 0

    def change(self, opened):
        with self._lock:
            if opened:
                self.open += 1
            else:
                self.open -= 1
                self.closed += 1


OPEN_STREAMS = StreamCounter()


def split_evenly(text, chunks):
    """Cut `text` into at most `chunks` pieces whose lengths differ by at most one."""
    count = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return [piece for piece in pieces if piece]


def last_user_text(messages):
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


class FakeEchoChatModel(BaseChatModel):
    chunks: int = 20
    ttft_ms: int = 0
    chunk_ms: int = 0

    @property
    def _llm_type(self):
        return "fake-echo"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = "".join(chunk.text for chunk in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        OPEN_STREAMS.change(opened=True)
        try:
            for index, piece in enumerate(split_evenly(last_user_text(messages), self.chunks)):
                delay_ms = self.ttft_ms if index == 0 else self.chunk_ms
                if delay_ms:
                    time.sleep(delay_ms / 1000)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            OPEN_STREAMS.change(opened=False)
