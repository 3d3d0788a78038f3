"""A deterministic, timed chat model for tests and load tests.

Its reply is exactly the last user message, cut into `chunks` nearly equal
pieces (fewer when the message is shorter), after `ttft_ms` and then every
`chunk_ms`. Benchmarks rely on the reply being byte-for-byte the message.

Like a remote model, it keeps its own clock: piece i is due at
`ttft_ms + i * chunk_ms` after the stream opened, however late the reader
took the pieces before it. (Sleeping `chunk_ms` after each piece instead would
push every later piece back by any delay of the reader's, and a benchmark
would count the server's lateness more than once.)
"""

import threading
import time

from langchain_core.messages import HumanMessage

from app.providers.text_stream import TextStreamingChatModel


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


class FakeEchoChatModel(TextStreamingChatModel):
    chunks: int = 20
    ttft_ms: int = 0
    chunk_ms: int = 0

    @property
    def _llm_type(self):
        return "fake-echo"

    def stream_text(self, messages, stop=None):
        OPEN_STREAMS.change(opened=True)
        try:
            opened = time.monotonic()
            for index, piece in enumerate(split_evenly(last_user_text(messages), self.chunks)):
                due = opened + (self.ttft_ms + index * self.chunk_ms) / 1000
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                yield piece
        finally:
            OPEN_STREAMS.change(opened=False)
