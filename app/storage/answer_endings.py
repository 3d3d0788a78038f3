"""How an answer ended, as it is stored: the outcome words of the messages'
`outcome` column and the record of an ended answer (`Finished`).

They live here, below everything that uses them: the answer pipeline
(app/answers/) makes a Finished, storage saves and reloads it, and the pages
and the APIs read it. app/answers/outcomes.py puts the outcomes into words.
"""

from dataclasses import dataclass

from app.providers.ending import Usage

COMPLETE = "complete"  # the model finished (Gemini's STOP)
TRUNCATED = "truncated"  # the model stopped at its length limit (MAX_TOKENS)
BLOCKED = "blocked"  # Gemini's safety filters refused the question or the answer
ERROR = "error"  # the model failed, broke off, or took too long
STOPPED = "stopped"  # the person pressed Stop
INTERRUPTED = "interrupted"  # the reader went away, or the process writing it died


@dataclass(frozen=True)
class Finished:
    text: str
    outcome: str
    error: str = ""  # a message safe to show a person; the log has the details
    first_piece_seconds: float | None = None
    seconds: float = 0.0
    pieces: int = 0
    finish_reason: str | None = None  # the model's own (Gemini's STOP, MAX_TOKENS, SAFETY...)
    category: str | None = None  # the safety category of a block
    usage: Usage | None = None
    thoughts: str = ""  # the model's thought summaries, never part of `text`
    grounding: object = None  # providers.grounding.Grounding of a searched answer
    # Of an error, what failed (outcomes.error_kind's word: "rate-limited",
    # "unavailable", "timeout"...), for callers that answer with a status.
    error_kind: str | None = None
    # What the model was not sent of the conversation (providers.left_out.LeftOut), or None.
    left_out: object = None
    # From the first thought to the first piece of text (or the end, if no
    # text came); None when the model shared no thoughts.
    thought_seconds: float | None = None

    @property
    def pieces_per_second(self):
        streaming = self.seconds - (self.first_piece_seconds or 0)
        return (self.pieces - 1) / streaming if self.pieces > 1 and streaming > 0 else None
