"""The elements of a JSON array as its bytes arrive: how Vertex AI streams over REST.

Vertex answers `streamGenerateContent` with one JSON array sent piece by piece
(`[{...}`, then `,\\r\\n{...}` per response, then `]`). google-api-core's
`rest_streaming.ResponseIterator` reads it with `iter_content()`'s default of
one byte per read and walks every character in Python, then parses each
element with proto-plus: about 0.9 ms of CPU per piece, the largest cost of
the whole Gemini path over REST (docs/benchmarks.md). Here each HTTP chunk is
read as it comes and each element is parsed by the C JSON decoder at once.
"""

import codecs
import json

# An element larger than this (far above any real response) is refused rather
# than buffered without end.
MAX_ELEMENT_CHARS = 16 * 1024 * 1024

_WHITESPACE = " \t\r\n"
_MORE = object()  # what `_next_element` says when the element is not all here yet


class JsonArrayStream:
    """Iterate the elements of the JSON array in `chunks` (an iterator of
    bytes, cut anywhere), each as soon as its last byte has arrived.

    Raises ValueError for what is not one JSON array, or that ends before it
    is closed (a connection cut is the chunk iterator's own error)."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._text = ""
        self._position = 0
        self._started = False  # the `[` was read
        self._ended = False  # the `]` was read
        self._decode = codecs.getincrementaldecoder("utf-8")().decode
        self._decoder = json.JSONDecoder()
        self._partial = False  # the last try found an element not all here yet

    def __iter__(self):
        return self

    def __next__(self):
        element = self._next_element()
        while element is _MORE:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._at_end()
            more = self._decode(chunk)
            self._text = self._text[self._position:] + more
            self._position = 0
            if len(self._text) > MAX_ELEMENT_CHARS:
                raise ValueError("Gemini's stream sent an element too large to read")
            # An unfinished object can only be finished by a `}`: without
            # one, trying again would parse the same prefix once more.
            if not self._partial or "}" in more:
                element = self._next_element()
        return element

    def _skip_whitespace(self):
        text, position = self._text, self._position
        while position < len(text) and text[position] in _WHITESPACE:
            position += 1
        self._position = position
        return text[position] if position < len(text) else ""

    def _next_element(self):
        """The next element, `_MORE` if more bytes are needed; StopIteration after `]`."""
        if self._ended:
            self._read_to_the_end()
            raise StopIteration
        char = self._skip_whitespace()
        if not char:
            return _MORE
        if not self._started:
            if char != "[":
                raise ValueError(f"Gemini's stream is not a JSON array: {self._text[:80]!r}")
            self._started = True
            self._position += 1
            return self._next_element()
        if char in ",]":
            self._position += 1
            if char == "]":
                self._ended = True
                return self._next_element()
            char = self._skip_whitespace()
            if not char:
                return _MORE
        try:
            element, self._position = self._decoder.raw_decode(self._text, self._position)
        except json.JSONDecodeError as error:
            if not _may_be_unfinished(error, len(self._text)):
                raise ValueError(f"Gemini's stream sent an element that is not JSON: {error}") from None
            self._partial = True
            return _MORE
        self._partial = False
        return element

    def _read_to_the_end(self):
        """After the `]`: the body's end must follow (reading it lets the HTTP
        connection go back to its pool for the next answer)."""
        while True:
            if self._skip_whitespace():
                raise ValueError("Gemini's stream has data after its end")
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._text, self._position = self._decode(chunk), 0

    def _at_end(self):
        self._text += self._decode(b"", final=True)
        if not self._started and not self._skip_whitespace():
            raise StopIteration  # an empty body: no array, nothing in it
        raise ValueError(f"Gemini's stream ended before its array closed: {self._text[self._position:][:80]!r}")


def _may_be_unfinished(error, length):
    """Whether a decoding error may be only the element's end not having come
    yet: the decoder ran into the end of the text (an unfinished string is
    reported at its start; an escape cut short a few characters before the
    end), rather than into a character that can never be JSON there."""
    return error.msg.startswith("Unterminated string") or error.pos >= length - 6
