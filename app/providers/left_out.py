"""What a model was not sent of the conversation, and the words that tell a
person so.

An answer's model may be sent less than the whole conversation: its oldest
messages (past CHAT_HISTORY_MAX_TURNS / CHAT_HISTORY_MAX_CHARS, or beyond
the local model's context window: app/providers/local.py says so in its
stream, as a `LeftOut` among its pieces) and files of earlier messages (more
bytes than one request carries: app/answers/model_history.py). The answer
keeps what was left out (stored as JSON with it), and its bubble and the
JSON API say it in plain words, so nobody wonders why the model forgot.
"""

import json
from dataclasses import dataclass

FILE_REASON = "too large together with the newer files"


@dataclass(frozen=True)
class LeftOut:
    messages: int = 0  # the oldest, in number
    files: tuple = ()  # names of earlier messages' files, newest first

    def __bool__(self):
        return bool(self.messages or self.files)

    def __add__(self, other):
        if other is None:
            return self
        return LeftOut(self.messages + other.messages, self.files + tuple(other.files))

    def sentences(self):
        said = []
        if self.messages == 1:
            said.append("The oldest message was not sent to the model (it does not fit its context).")
        elif self.messages:
            said.append(f"The {self.messages} oldest messages were not sent to the model "
                        "(they do not fit its context).")
        if len(self.files) == 1:
            said.append(f"{self.files[0]} from an earlier message was not sent ({FILE_REASON}).")
        elif self.files:
            names = f"{', '.join(self.files[:-1])} and {self.files[-1]}"
            said.append(f"{names} from earlier messages were not sent ({FILE_REASON}).")
        return said

    @property
    def note(self):
        """The sentences as one paragraph ("" when nothing was left out)."""
        return " ".join(self.sentences())

    def as_dict(self):
        """For the JSON API: the counts, and the note a person reads."""
        return {"messages": self.messages, "files": list(self.files), "note": self.note}

    def to_json(self):
        return json.dumps({"messages": self.messages, "files": list(self.files)}) if self else None

    @classmethod
    def from_json(cls, stored):
        if not stored:
            return None
        data = json.loads(stored)
        return cls(int(data.get("messages", 0)), tuple(data.get("files", ())))


def file_left_out_note(name):
    """What the model reads in place of a file it was not sent, so it knows
    the file existed."""
    return f"[file {name} left out: the conversation's files exceed what one request can carry]"
