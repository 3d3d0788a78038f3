"""How a model's answer ended, as its provider reports it.

A provider's text stream (text_stream.stream_text) may yield, after its last
`str` piece, one `Ending`. The reply pipeline turns it into the answer's
outcome (app/answers/outcomes.py); a stream that yields none simply ended.
"""

import json
from dataclasses import dataclass

# Gemini's input modalities, lowercased as the API and the page name them.
MODALITIES = ("text", "image", "audio", "video", "document")


@dataclass(frozen=True)
class Usage:
    """Tokens an answer cost: the question with its history, the answer, and
    of the answer the model's thinking (None when the model does not say).

    `input_by_modality`: the input tokens by what they were, as Gemini counts
    them (`promptTokensDetails`): (("text", 940), ("image", 258)), or () when
    the model does not say. Images, audio and video are billed as tokens, and
    audio at its own price for some models (app/answers/prices.py)."""

    input_tokens: int
    output_tokens: int
    reasoning_tokens: int | None = None
    input_by_modality: tuple = ()

    @classmethod
    def stored(cls, input_tokens, output_tokens, reasoning_tokens, input_modalities=None):
        """The Usage saved in these columns, or None if none was
        (`input_modalities`: the JSON of `modalities_json`)."""
        if input_tokens is None:
            return None
        return cls(input_tokens, output_tokens or 0, reasoning_tokens, modalities_from_json(input_modalities))

    def input_tokens_of(self, modality):
        """Input tokens of one modality ("audio"), 0 when none or not said."""
        return sum(tokens for name, tokens in self.input_by_modality if name == modality)

    @property
    def media_input(self):
        """((modality, tokens), ...) of the input that is not text: what the
        page says an answer's input included ("258 image")."""
        return tuple((name, tokens) for name, tokens in self.input_by_modality if name != "text" and tokens)

    def modalities_json(self):
        """`input_by_modality` as stored in its column: a JSON object, or None."""
        return json.dumps(dict(self.input_by_modality)) if self.input_by_modality else None

    def as_dict(self):
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "reasoning_tokens": self.reasoning_tokens,
                "input_tokens_by_modality": dict(self.input_by_modality) or None}


def modalities_from_json(text):
    """The (modality, tokens) pairs of a stored JSON object; () for none or a
    value this version cannot read (the counts are shown, never trusted)."""
    if not text:
        return ()
    try:
        found = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(found, dict):
        return ()
    return tuple((str(name), tokens) for name, tokens in found.items()
                 if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0)


def added_modalities(first, second):
    """The input by modality of two calls together (a continued answer)."""
    totals = dict(first)
    for name, tokens in second:
        totals[name] = totals.get(name, 0) + tokens
    return tuple(totals.items())


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
