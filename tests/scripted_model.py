"""A LangChain chat model that plays a script, for tests of the pipeline."""

import threading
import time

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class ModelBroke(RuntimeError):
    pass


class ScriptedChatModel(BaseChatModel):
    """Yields `pieces` (after `delay` seconds each); raises after `fail_after`
    pieces if set; with `finish_reason`, the last piece carries it (and
    `usage`, LangChain's usage_metadata) as Gemini's do. Records what it was
    sent and whether its stream was closed."""

    pieces: list[str]
    delay: float = 0.0
    fail_after: int | None = None
    finish_reason: str | None = None
    usage: dict | None = None
    received: list = []
    yielded: int = 0
    closed: threading.Event = None

    def model_post_init(self, _context):
        self.closed = threading.Event()
        self.received = []

    @property
    def _llm_type(self):
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = "".join(chunk.text for chunk in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.received.append(list(messages))
        try:
            for index, piece in enumerate(self.pieces):
                if self.fail_after is not None and index == self.fail_after:
                    raise ModelBroke("secret-token-123 upstream exploded")
                if self.delay:
                    time.sleep(self.delay)
                self.yielded += 1
                last = index == len(self.pieces) - 1
                if last and self.finish_reason:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece, usage_metadata=self.usage),
                                              generation_info={"finish_reason": self.finish_reason})
                else:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            self.closed.set()
