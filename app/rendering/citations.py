"""Numbered citation markers in a grounded answer, where Gemini says a
sentence is supported by its Google Search sources.

Each `groundingSupport` ends at a UTF-8 BYTE offset of the answer text; its
marker goes there, numbered after the sources (1 is the first grounding
chunk). The markers are placed in the markdown source as private-use
sentinels and turned into links only after the HTML is rendered and
sanitised, so the model's text never becomes markup: a sentinel the model
wrote itself is removed first, and one that landed inside highlighted code
(split by the lexer's spans) is dropped.
"""

import re

from markupsafe import escape

OPEN, CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{OPEN}([0-9,]+){CLOSE}")
_STRAY = re.compile(f"{OPEN}(?:<[^>]*>|[0-9,])*{CLOSE}|[{OPEN}{CLOSE}]")


def _plain(text):
    return text.replace(OPEN, "").replace(CLOSE, "")


def with_markers(text, grounding):
    """`text` with a sentinel marker after every supported segment."""
    if not grounding or not grounding.supports:
        return _plain(text)
    encoded = text.encode("utf-8", "surrogatepass")
    numbers_at = {}
    for support in grounding.supports:
        if support.end_byte > len(encoded):
            continue  # the text was cut (stopped, blocked): the segment is not there
        position = len(encoded[: support.end_byte].decode("utf-8", "ignore"))
        numbers_at.setdefault(position, set()).update(index + 1 for index in support.sources)
    parts, last = [], 0
    for position in sorted(numbers_at):
        numbers = ",".join(str(number) for number in sorted(numbers_at[position]))
        parts += [_plain(text[last:position]), f"{OPEN}{numbers}{CLOSE}"]
        last = position
    parts.append(_plain(text[last:]))
    return "".join(parts)


def link_markers(html, grounding):
    """Rendered HTML with each sentinel marker as links to its sources."""
    sources = grounding.sources if grounding else ()

    def marker(match):
        links = []
        for number in match.group(1).split(","):
            source = sources[int(number) - 1] if number and 0 < int(number) <= len(sources) else None
            if source is None:
                continue
            label = escape(f"Source {number}: {source.title or source.domain or source.uri}")
            if source.is_link:
                links.append(f'<a class="citation" href="{escape(source.uri)}" target="_blank" '
                             f'rel="noopener noreferrer nofollow" aria-label="{label}" title="{label}">{number}</a>')
            else:
                links.append(f'<span class="citation" aria-label="{label}" title="{label}">{number}</span>')
        return f'<sup class="citations">{"".join(links)}</sup>' if links else ""

    return _STRAY.sub("", _MARKER.sub(marker, html))
