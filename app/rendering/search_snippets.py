"""A search result's text with the searched words marked.

The text is a title, a question or a model's answer: never trusted as HTML.
Every piece of it is escaped, and <mark> is put only around escaped words,
so nothing in the text can open or close a tag.
"""

import re
import unicodedata

from markupsafe import Markup, escape

SNIPPET_CHARS = 180
CONTEXT_BEFORE = 60
# Enough of a long answer to find the words in; the rest is not scanned.
SCANNED_CHARS = 100_000

_WORD = re.compile(r"[^\W_]+")


def folded(word):
    """A word as the search indexes see it: casefolded, without accents."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class _Matcher:
    """Whether a word of the text is one of the searched words (the last also as a prefix)."""

    def __init__(self, terms):
        words = [folded(term) for term in terms.words]
        self.whole = frozenset(words)
        self.prefix = words[-1] if terms.last_is_prefix else None

    def __call__(self, word):
        word = folded(word)
        return word in self.whole or (self.prefix is not None and word.startswith(self.prefix))


def marked(text, terms):
    """All of `text`, escaped, its searched words in <mark>."""
    return _mark(text, _Matcher(terms), 0, len(text))


def marked_snippet(text, terms, chars=SNIPPET_CHARS):
    """About `chars` characters of `text` around its first searched word,
    whitespace folded, escaped, the words in <mark>; "…" where cut."""
    text = " ".join(text[:SCANNED_CHARS].split())
    matches = _Matcher(terms)
    first = next((found.start() for found in _WORD.finditer(text) if matches(found.group())), 0)
    start = 0 if first <= CONTEXT_BEFORE else _word_start(text, first - CONTEXT_BEFORE)
    end = min(len(text), start + chars)
    if end < len(text):
        end = _word_end(text, end)
    snippet = _mark(text, matches, start, end)
    return Markup("{}{}{}").format("…" if start else "", snippet, "…" if end < len(text) else "")


def _word_start(text, position):
    space = text.find(" ", position)
    return position if space == -1 else space + 1


def _word_end(text, position):
    space = text.rfind(" ", 0, position)
    return position if space <= 0 else space


def _mark(text, matches, start, end):
    pieces = []
    at = start
    for found in _WORD.finditer(text, start, end):
        if matches(found.group()):
            pieces.append(escape(text[at:found.start()]))
            pieces.append(Markup("<mark>{}</mark>").format(found.group()))
            at = found.end()
    pieces.append(escape(text[at:end]))
    return Markup("").join(pieces)
