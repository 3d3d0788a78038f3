"""A piece of the model's thinking (Gemini's thought summaries), as a text
stream may yield it among its `str` pieces.

Thoughts are never part of the answer's text: they are shown in their own
section, stored apart, and never sent back to the model as history.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Thought:
    text: str
    # The whole thinking so far, not a new piece: what a subscriber that
    # starts (or resumes) mid-answer gets first, to show in place of its own.
    replaces: bool = False
