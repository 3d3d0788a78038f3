"""Reading an export file (docs/export.md) as it is read from disk, one
conversation at a time.

The file is one JSON object; its `conversations` list may be far larger than
what a worker should hold, so the object is walked member by member and each
conversation is decoded on its own by the C JSON decoder, while the text
around it is dropped. Every conversation comes with the line it starts on,
so a refusal can say where in the file the problem is.
"""

import codecs
import json

CHUNK_BYTES = 64 * 1024
_WHITESPACE = " \t\r\n"


class NotAnExport(ValueError):
    """The file is not JSON, or not an export's shape; the message says where."""


class _Text:
    """The file's text from the current position on, read as needed."""

    def __init__(self, stream):
        self._stream = stream
        self._decode = codecs.getincrementaldecoder("utf-8")().decode
        self.text, self.pos, self.ended = "", 0, False
        self._lines_before = 1  # the line the kept text starts on

    def line(self, pos=None):
        return self._lines_before + self.text.count("\n", 0, self.pos if pos is None else pos)

    def more(self):
        """Read more: as much again as is kept, so a long value is parsed a
        bounded number of times (the work stays linear in its length)."""
        if self.ended:
            return False
        self._lines_before += self.text.count("\n", 0, self.pos)
        self.text = self.text[self.pos:]
        self.pos = 0
        try:
            data = self._stream.read(max(CHUNK_BYTES, len(self.text)))
            self.text += self._decode(data or b"", final=not data)
        except UnicodeDecodeError:
            raise NotAnExport(f"Line {self.line()}: the file is not UTF-8 text.") from None
        self.ended = not data
        return True

    def next_char(self):
        """The next character that is not whitespace ("" at the end of the file), not consumed."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def expect(self, chars, what):
        char = self.next_char()
        if not char or char not in chars:
            found = f"found {char!r}" if char else "the file ended"
            raise NotAnExport(f"Line {self.line()}: expected {what}, {found}.")
        self.pos += 1
        return char

    def value(self, decoder=json.JSONDecoder()):
        """The next JSON value, decoded whole."""
        self.next_char()
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                if self.more():
                    continue  # perhaps only its end has not been read yet
                raise NotAnExport(f"Line {self.line(error.pos)}: this is not JSON ({error.msg}).") from None
            # A number or a word that reaches the end of what was read may go on.
            if end == len(self.text) and self.more():
                continue
            self.pos = end
            return value


def read_export(stream):
    """Walk the export in binary `stream`: yield ("head", {member: value})
    once the `conversations` list starts (with the members before it: the
    format and version come first), then ("conversation", line, record) for
    each conversation. NotAnExport for anything that is not that shape."""
    text = _Text(stream)
    text.expect("{", "a JSON object ({) at the start of the file")
    head, seen_conversations = {}, False
    if text.next_char() == "}":
        text.pos += 1
    else:
        while True:
            key = text.value()
            if not isinstance(key, str):
                raise NotAnExport(f"Line {text.line()}: expected a member's name in quotes.")
            text.expect(":", "a colon after a member's name")
            if key == "conversations" and not seen_conversations:
                seen_conversations = True
                yield "head", dict(head)
                yield from _conversations(text)
            else:
                head[key] = text.value()
            if text.expect(",}", "a comma or the object's end (})") == "}":
                break
    if text.next_char():
        raise NotAnExport(f"Line {text.line()}: there is more after the end of the export's object.")
    if not seen_conversations:
        raise NotAnExport('This is not a chat export: it has no "conversations" list.')


def _conversations(text):
    text.expect("[", 'a list ([) of conversations after "conversations"')
    if text.next_char() == "]":
        text.pos += 1
        return
    while True:
        text.next_char()
        line = text.line()
        yield "conversation", line, text.value()
        if text.expect(",]", "a comma or the list's end (])") == "]":
            return
