"""Numbered citation marks in a grounded answer, where Gemini says a
sentence is supported by its Google Search sources.

Each `groundingSupport` ends at a UTF-8 BYTE offset of the answer's markdown,
and that offset may fall anywhere in it: inside a link's title or URL, a code
span, a fence's info string, an entity. So marks are never put into the
markdown. The answer is rendered and sanitised without them, and each mark is
then inserted into that HTML between text: after the last character of
rendered text that comes before the offset (the rendered text is matched to
the markdown it came from, in order), and when that character is inside a
link, a code span or a code block, after that element. Removing the marks
gives back the citation-free rendering exactly, and nothing of the model's
ever becomes a tag.

Sources and supports come from outside and can be many (50 sources, 500
supports, each citing all 50): the marks of one answer are bounded in number
(MAX_MARKS), in links each (MAX_SOURCES_PER_MARK, the rest counted as "+N")
and in bytes (MARKS_MAX_BYTES); marks left out are said so at the answer's
end.
"""

import html
from bisect import bisect_right
from dataclasses import dataclass
from html.parser import HTMLParser

from markupsafe import escape

MAX_MARKS = 100
MAX_SOURCES_PER_MARK = 5
MAX_LABEL_CHARS = 120
MARKS_MAX_BYTES = 150_000

# Rendered text is matched to the markdown by looking this far ahead for each
# character: markup in between (a link's URL, `**`, an entity's name) is
# skipped; a character found nowhere near (an entity's `©`) is left unmatched
# rather than pulling the match to a far-off copy of it.
MATCH_WINDOW = 1024

# A mark never goes inside these: a link in a link, a number in code, an HTML
# <sup> in MathML (the browser's parser would end the formula there). The
# only <div> and <button> in an answer are a code block's own (markdown.py).
_ATOMIC = {"a", "code", "pre", "div", "button", "math"}
_VOID = {"br", "hr", "img", "input", "wbr"}


@dataclass
class _Piece:
    """A run of the rendered HTML: a tag, or text (`text` is what it shows)."""

    start: int
    end: int = 0
    text: str = ""
    is_text: bool = False
    searchable: bool = True  # false for a copy button's label: not the model's text
    atomic_start: int | None = None  # index of the outermost link/code piece it is in
    closes: int | None = None  # for an end tag: the index of the start tag it closes


class _Pieces(HTMLParser):
    """The rendered HTML cut into pieces, each knowing where it is in the markup."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=False)
        self.pieces = []
        self._line_starts = [0] + [i + 1 for i, char in enumerate(markup) if char == "\n"]
        self._open = []  # (tag, index of its start piece)
        self.feed(markup)
        self.close()
        for piece, following in zip(self.pieces, self.pieces[1:]):
            piece.end = following.start
        if self.pieces:
            self.pieces[-1].end = len(markup)

    def _add(self, **fields):
        line, column = self.getpos()
        atomic = next((index for tag, index in self._open if tag in _ATOMIC), None)
        searchable = all(tag != "button" for tag, _ in self._open)
        piece = _Piece(self._line_starts[line - 1] + column, atomic_start=atomic, searchable=searchable, **fields)
        self.pieces.append(piece)
        return len(self.pieces) - 1

    def handle_starttag(self, tag, attrs):
        index = self._add()
        if tag not in _VOID:
            self._open.append((tag, index))

    def handle_startendtag(self, tag, attrs):
        self._add()

    def handle_endtag(self, tag):
        opened = next((i for i in range(len(self._open) - 1, -1, -1) if self._open[i][0] == tag), None)
        closes = self._open[opened][1] if opened is not None else None
        if opened is not None:
            del self._open[opened:]
        self._add(closes=closes)
        self.pieces[-1].atomic_start = None

    def handle_data(self, data):
        self._add(text=data, is_text=True)

    def handle_entityref(self, name):
        self._add(text=html.unescape(f"&{name};"), is_text=True)

    def handle_charref(self, name):
        self._add(text=html.unescape(f"&#{name};"), is_text=True)

    def handle_comment(self, data):
        self._add()

    def unknown_decl(self, data):
        self._add()


def _char_positions(text, supports):
    """{character offset in text: source indices} for the supports' byte offsets."""
    encoded = text.encode("utf-8", "surrogatepass")
    by_byte = {}
    for support in supports:
        end = support.end_byte
        if end > len(encoded):
            continue  # the text was cut (stopped, blocked): the segment is not there
        while 0 < end < len(encoded) and encoded[end] & 0xC0 == 0x80:
            end -= 1  # inside a character: the segment ends before it
        by_byte.setdefault(end, []).extend(support.sources)
    positions, chars, done = {}, 0, 0
    for end in sorted(by_byte):
        chars += len(encoded[done:end].decode("utf-8", "surrogatepass"))
        done = end
        positions[chars] = by_byte[end]
    return positions


def _matched_ends(source, shown):
    """For each character of `shown` (the rendered text), how much of `source`
    (the markdown) had been read when it was matched: non-decreasing."""
    ends, read = [], 0
    find = source.find
    for char in shown:
        found = find(char, read, read + MATCH_WINDOW)
        if found >= 0:
            read = found + 1
        ends.append(read)
    return ends


def _insertion_points(markup, text, positions):
    """{offset in markup: source indices} where each position's mark goes."""
    pieces = _Pieces(markup).pieces
    end_of = {piece.closes: piece.end for piece in pieces if piece.closes is not None}
    texts = [(index, piece) for index, piece in enumerate(pieces) if piece.is_text and piece.searchable]
    shown = "".join(piece.text for _, piece in texts)
    starts, offset = [], 0
    for _, piece in texts:
        starts.append(offset)
        offset += len(piece.text)
    ends = _matched_ends(text, shown)

    points = {}
    for position in sorted(positions):
        last = bisect_right(ends, position) - 1
        while last >= 0 and shown[last].isspace():
            last -= 1
        if last < 0:
            at = 0
        else:
            which = bisect_right(starts, last) - 1
            _, piece = texts[which]
            if piece.atomic_start is not None:
                at = end_of.get(piece.atomic_start, len(markup))
            elif piece.end - piece.start == len(piece.text):  # plain text: its characters are its markup
                at = piece.start + last - starts[which] + 1
            else:  # an entity: after all of it
                at = piece.end
        points.setdefault(at, []).extend(positions[position])
    return points


def _label(number, source):
    name = source.title or source.domain or source.uri
    if len(name) > MAX_LABEL_CHARS:
        name = name[:MAX_LABEL_CHARS - 1] + "…"
    return escape(f"Source {number}: {name}")


def _mark(indices, sources):
    """One <sup> of links to its sources (at most MAX_SOURCES_PER_MARK), or ""."""
    numbers = sorted({index + 1 for index in indices if 0 <= index < len(sources)})
    links = []
    for number in numbers[:MAX_SOURCES_PER_MARK]:
        source, label = sources[number - 1], _label(number, sources[number - 1])
        if source.is_link:
            links.append(f'<a class="citation" href="{escape(source.uri)}" target="_blank" '
                         f'rel="noopener noreferrer nofollow" aria-label="{label}" title="{label}">{number}</a>')
        else:
            links.append(f'<span class="citation" aria-label="{label}" title="{label}">{number}</span>')
    more = len(numbers) - MAX_SOURCES_PER_MARK
    if more > 0:
        links.append(f'<span class="citation citation-more" title="and {more} more sources">+{more}</span>')
    return f'<sup class="citations">{"".join(links)}</sup>' if links else ""


def cite(markup, text, grounding):
    """`markup` (the answer `text` rendered) with its citation marks."""
    if not grounding or not grounding.supports:
        return markup
    positions = _char_positions(text, grounding.supports)
    if not positions:
        return markup
    points = _insertion_points(markup, text, positions)
    parts, last, shown, spent, left_out = [], 0, 0, 0, 0
    for at in sorted(points):
        mark = _mark(points[at], grounding.sources)
        if not mark:
            continue
        if shown >= MAX_MARKS or spent + len(mark) > MARKS_MAX_BYTES:
            left_out += 1
            continue
        parts += [markup[last:at], mark]
        shown, spent, last = shown + 1, spent + len(mark), at
    parts.append(markup[last:])
    if left_out:
        parts.append(f'<p class="citations citations-left-out">{left_out} more citation '
                     f'{"mark was" if left_out == 1 else "marks were"} left out; the sources are listed below.</p>\n')
    return "".join(parts)
