"""Reading an export a conversation at a time: whatever the cut between
reads (a number, a string, an escape, a multi-byte character split across
them), each conversation comes whole, with the line it starts on, and what
is not an export is refused saying where."""

import io
import json

import pytest

from app.portability import export_reader
from app.portability.export_reader import NotAnExport, read_export


class Trickle(io.RawIOBase):
    """A stream that gives at most `size` bytes per read, as a slow disk or socket may."""

    def __init__(self, data, size):
        self._data, self._size, self._at = data, size, 0

    def readable(self):
        return True

    def read(self, n=-1):
        piece = self._data[self._at:self._at + min(self._size, n if n > 0 else self._size)]
        self._at += len(piece)
        return piece


DOCUMENT = {
    "format": "chat-export", "version": 1, "exported_at": "2026-12-07T13:50:00Z",
    "conversations": [
        {"id": "a", "n": 1234567890, "text": "tide \u00e9\u20ac\U0001F30A \\\" end", "list": [1.5e10, True, None]},
        {"id": "b", "n": 7, "text": "x" * 5000},
    ],
}


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 100_000])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_cut_gives_the_same_conversations_and_lines(monkeypatch, chunk, indent):
    monkeypatch.setattr(export_reader, "CHUNK_BYTES", chunk)
    data = json.dumps(DOCUMENT, indent=indent, ensure_ascii=False).encode()
    events = list(read_export(Trickle(data, chunk)))
    assert events[0] == ("head", {"format": "chat-export", "version": 1, "exported_at": "2026-12-07T13:50:00Z"})
    assert [record for _kind, _line, record in events[1:]] == DOCUMENT["conversations"]
    lines = data.decode().splitlines()
    for _kind, line, record in events[1:]:
        assert lines[line - 1].lstrip().startswith("{"), (line, record["id"])


@pytest.mark.parametrize("data, where", [
    (b"", "expected a JSON object ({) at the start of the file, the file ended"),
    (b'{"conversations": [\n{"id": 1}\n{"id": 2}]}', "Line 3: expected a comma or the list's end (])"),
    (b'{"conversations": [{"id": "\xff"}]}', "Line 1: the file is not UTF-8 text."),
    (b'{"conversations": []} []', "Line 1: there is more after the end"),
    (b'{"format": "chat-export"}', 'it has no "conversations" list'),
])
def test_what_is_not_an_export_is_refused_saying_where(data, where):
    with pytest.raises(NotAnExport) as refused:
        list(read_export(io.BytesIO(data)))
    assert where in str(refused.value)
