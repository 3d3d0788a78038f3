"""Which of a grounded answer's sources and Google searches the page lists.

A grounding holds up to 50 sources with 2,048-character URLs and up to 20
searches (providers/grounding.py), and escaping can make each character five
bytes: listed whole, one answer's sources could take megabytes of every page
it is on. The list is bounded in bytes (SOURCES_MAX_BYTES, then
QUERIES_MAX_BYTES for the searches) and a shown name in characters; the
sources are listed in order (their numbers are the citation marks'), and
the page says how many were left out.
"""

from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import escape

SOURCES_MAX_BYTES = 80_000
QUERIES_MAX_BYTES = 20_000
MAX_NAME_CHARS = 200
# What one list item costs besides its escaped text (_sources.html's tags).
_SOURCE_MARKUP_BYTES = 120
_QUERY_MARKUP_BYTES = 160


@dataclass(frozen=True)
class ShownSource:
    uri: str
    name: str  # the title, else the domain, else the URI; cut to MAX_NAME_CHARS
    site: str  # the domain, when it says more than the name
    is_link: bool


@dataclass(frozen=True)
class ShownSources:
    sources: tuple = ()
    sources_left_out: int = 0
    queries: tuple = ()
    queries_left_out: int = 0


def _cut(text):
    return text if len(text) <= MAX_NAME_CHARS else text[:MAX_NAME_CHARS - 1] + "…"


def _shown(source):
    name = _cut(source.title or source.domain or source.uri)
    site = _cut(source.domain) if source.domain and source.domain != source.title else ""
    return ShownSource(source.uri, name, site, source.is_link)


def _source_bytes(shown):
    href = len(escape(shown.uri)) if shown.is_link else 0
    return _SOURCE_MARKUP_BYTES + href + len(escape(shown.name)) + len(escape(shown.site))


def _query_bytes(query):
    return _QUERY_MARKUP_BYTES + len(quote(query.encode("utf-8"), safe="")) + len(escape(query))


def _within(items, size, budget):
    """The first of `items` whose sizes add up to at most `budget`."""
    kept, spent = [], 0
    for item in items:
        spent += size(item)
        if spent > budget:
            break
        kept.append(item)
    return tuple(kept)


def shown_sources(grounding):
    """A grounding's sources and searches as the page lists them."""
    sources = _within((_shown(source) for source in grounding.sources), _source_bytes, SOURCES_MAX_BYTES)
    queries = _within(grounding.queries, _query_bytes, QUERIES_MAX_BYTES)
    return ShownSources(sources, len(grounding.sources) - len(sources), queries, len(grounding.queries) - len(queries))
