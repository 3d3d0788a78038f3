"""The line of numbers under a finished answer, in words a person reads:
how soon the first words came, how fast the answer was written, the tokens
it cost (with the images, audio and video among its input) and an estimate
of its price.

The speed is the answer's output tokens over its whole time, from asking
the model to the last piece. A rate over the pieces alone says nothing a
person can use: pieces are as long as the model or a proxy makes them, and
pieces that come back to back (a buffered stream, the fake model) gave
"60054 pieces/s". An answer without a token count (the offline model, the
fake one) says how long it took instead.
"""

from dataclasses import dataclass

from app.web.costs import answer_cost


@dataclass(frozen=True)
class AnswerStats:
    parts: tuple  # plain phrases, shown joined by " · "
    cost: str  # "$0.03", "< $0.01", or "" when it cannot be told


def seconds_words(seconds):
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:,.0f} s"


def rate_words(per_second):
    return f"{per_second:.1f}" if per_second < 10 else f"{per_second:,.0f}"


def tokens_per_second(message):
    """Output tokens over the whole answer's time, or None if either is unknown."""
    usage, seconds = message.usage, getattr(message, "answer_seconds", None)
    if not usage or not usage.output_tokens or not seconds:
        return None
    return usage.output_tokens / seconds


def media_words(usage):
    """What of the input was not text, as Gemini counted it: " (258 image,
    1,200 audio)", or "" (images, audio and video are billed as tokens too)."""
    media = usage.media_input
    return f" ({', '.join(f'{tokens:,} {name}' for name, tokens in media)})" if media else ""


def answer_stats(message):
    """The stats line's phrases for a finished answer (None: nothing to say)."""
    parts = []
    if message.first_piece_seconds is not None:
        parts.append(f"first words after {seconds_words(message.first_piece_seconds)}")
    rate = tokens_per_second(message)
    seconds = getattr(message, "answer_seconds", None)
    if rate is not None:
        parts.append(f"{rate_words(rate)} tokens/s")
    elif seconds and message.first_piece_seconds is not None:
        parts.append(f"done in {seconds_words(seconds)}")
    usage = message.usage
    if usage:
        tokens = f"{usage.input_tokens:,} in{media_words(usage)} · {usage.output_tokens:,} out"
        if usage.reasoning_tokens:
            tokens += f" ({usage.reasoning_tokens:,} thinking)"
        parts.append(tokens)
    cost = answer_cost(message) if usage else ""
    return AnswerStats(tuple(parts), cost) if parts or cost else None
