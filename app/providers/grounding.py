"""Where a grounded answer's facts came from: Google Search grounding, in a
shape of the app's own (stored as JSON with the answer).

Gemini sends it as `groundingMetadata` on the candidate: `groundingChunks`
(the sources: `web.uri`, `web.title`, `web.domain`), `groundingSupports`
(a segment of the answer, whose `endIndex` counts UTF-8 BYTES of the answer
text, tied to some chunks by index) and `webSearchQueries`. Everything in it
comes from outside, so it is bounded here (a field's length, the number of
each; a support's sources counted once) and escaped wherever it is shown;
only http(s) links are ever made links. How much of it one answer shows is
bounded again where it is shown (app/rendering/citations.py, sources.py).
"""

import json
from dataclasses import dataclass

MAX_SOURCES = 50
MAX_SUPPORTS = 500
MAX_QUERIES = 20
MAX_URI_CHARS = 2048
# A title, a domain or a search query: what is shown as text.
MAX_TEXT_CHARS = 300


@dataclass(frozen=True)
class Source:
    uri: str
    title: str
    domain: str = ""

    @property
    def is_link(self):
        return self.uri.lower().startswith(("https://", "http://"))


@dataclass(frozen=True)
class Support:
    end_byte: int  # where the supported segment ends, in UTF-8 bytes of the answer
    sources: tuple  # indices into Grounding.sources


@dataclass(frozen=True)
class Grounding:
    sources: tuple = ()
    supports: tuple = ()
    queries: tuple = ()

    def __bool__(self):
        return bool(self.sources or self.queries)

    def citations(self):
        """The API's `citations`: [{"uri", "title"}] in source order."""
        return [{"uri": source.uri, "title": source.title} for source in self.sources]

    def to_json(self):
        return json.dumps({
            "sources": [[s.uri, s.title, s.domain] for s in self.sources],
            "supports": [[s.end_byte, list(s.sources)] for s in self.supports],
            "queries": list(self.queries),
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw):
        """The stored JSON back (None for none, or for JSON this did not write)."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(
                tuple(Source(*entry) for entry in data["sources"]),
                tuple(Support(end, tuple(indices)) for end, indices in data["supports"]),
                tuple(data["queries"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def _text(value, limit=MAX_TEXT_CHARS):
    return str(value or "")[:limit]


def from_gemini(metadata):
    """A Grounding from Gemini's GroundingMetadata (the proto-plus message),
    or None when it holds nothing to show."""
    sources = tuple(
        Source(_text(chunk.web.uri, MAX_URI_CHARS), _text(chunk.web.title), _text(getattr(chunk.web, "domain", "")))
        for chunk in list(metadata.grounding_chunks)[:MAX_SOURCES]
    )
    supports = []
    for support in list(metadata.grounding_supports)[:MAX_SUPPORTS]:
        indices = tuple(dict.fromkeys(i for i in support.grounding_chunk_indices if 0 <= i < len(sources)))
        if indices and support.segment.end_index > 0:
            supports.append(Support(int(support.segment.end_index), indices))
    queries = tuple(_text(query) for query in list(metadata.web_search_queries)[:MAX_QUERIES] if query)
    grounding = Grounding(sources, tuple(supports), queries)
    return grounding or None
