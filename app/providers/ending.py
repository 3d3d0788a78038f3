"""How a model's answer ended, as its provider reports it.

A provider's text stream (text_stream.stream_text) may yield, after its last
`str` piece, one `Ending`. The reply pipeline turns it into the answer's
outcome (app/answers/outcomes.py); a stream that yields none simply ended.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Tokens an answer cost: the question with its history, the answer, and
    of the answer the model's thinking (None when the model does not say)."""

    input_tokens: int
    output_tokens: int
    reasoning_tokens: int | None = None

    @classmethod
    def stored(cls, input_tokens, output_tokens, reasoning_tokens):
        """The Usage saved in these columns, or None if none was."""
        return None if input_tokens is None else cls(input_tokens, output_tokens or 0, reasoning_tokens)

    def as_dict(self):
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "reasoning_tokens": self.reasoning_tokens}


@dataclass(frozen=True)
class Ending:
    """`finish_reason` is the model's own word: Gemini's `STOP`, `MAX_TOKENS`,
    `SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`... or, for a question Gemini
    refused to answer at all, its block reason (`prompt_blocked`). None means
    the stream ended without one: it broke off. (Google's error element at
    the end of a REST stream is raised as an error: app/providers/gemini_responses.py.)
    `category` is the safety category that blocked it (HARM_CATEGORY_...);
    `grounding` the answer's Google Search sources (providers.grounding)."""

    finish_reason: str | None
    prompt_blocked: bool = False
    category: str | None = None
    usage: Usage | None = None
    grounding: object = None


# What a provider without finish reasons means by a stream that just ended.
STOPPED_NATURALLY = Ending("STOP")
