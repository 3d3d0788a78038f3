"""What an answer is waiting for before its first piece, as a text stream may
say it among its `str` pieces: words a person reads in the answer's bubble
("Loading the offline model…", "Waiting: 2 answers ahead").

Never part of the answer's text, never stored: only followers of the answer
in the process that generates it show it, until the first piece comes. A
stream says it again now and then while the wait lasts, so the reply
pipeline's wait for a first piece counts from the last word of it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    text: str
