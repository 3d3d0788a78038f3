"""One grounded answer's citations and sources stay a few hundred kB, whatever
Gemini's grounding holds.

Gemini's grounding is read with bounds per field (providers/grounding.py:
sources, supports, queries, field lengths). Multiplied out (every support
citing every source, each citation carrying its source's URL and title, each
character escaped to five bytes) those bounds once made 153 MB of stored HTML
for one answer. The grounding here is over every bound, with the characters
that escape worst; what is stored and what the page lists must stay within
the documented bound (docs/gemini.md: 150 kB of citation marks with the answer, 100 kB
of sources and searches beside it), saying what was left out.
"""

import re

from flask import render_template
from google.cloud.aiplatform_v1beta1.types import GroundingChunk, GroundingMetadata, GroundingSupport, Segment

from app.providers.grounding import from_gemini
from app.rendering.markdown import render_answer

STORED_MARKS_BOUND = 150_000
LISTED_SOURCES_BOUND = 100_000
OVER_ANY_BOUND = 5_000  # characters in a field
SOURCES, SUPPORTS, QUERIES = 80, 800, 40  # more than the provider keeps of each

SENTENCES = [f"Fact {n} is supported. " for n in range(SUPPORTS)]
ANSWER = "".join(SENTENCES)


def grounding_over_every_bound():
    ends, end = [], 0
    for sentence in SENTENCES:
        end += len(sentence.encode())
        ends.append(end - 1)
    return from_gemini(GroundingMetadata(
        grounding_chunks=[GroundingChunk(web=GroundingChunk.Web(
            uri="https://example.org/?" + "&" * OVER_ANY_BOUND,
            title=f'{n} "' + '"' * OVER_ANY_BOUND,
        )) for n in range(SOURCES)],
        grounding_supports=[GroundingSupport(segment=Segment(end_index=end),
                                             grounding_chunk_indices=list(range(SOURCES)) * 3) for end in ends],
        web_search_queries=['"&<ü' * (OVER_ANY_BOUND // 4) + str(n) for n in range(QUERIES)],
    ))


def test_every_support_citing_every_source_stores_a_bounded_answer_and_says_what_was_left_out():
    grounding = grounding_over_every_bound()
    assert len(grounding.supports) >= 500 and len(grounding.sources) >= 50, "the provider's bounds, reached"

    plain = render_answer(ANSWER)
    cited = render_answer(ANSWER, grounding)
    assert len(cited.encode()) - len(plain.encode()) <= STORED_MARKS_BOUND

    marks = re.findall(r'<sup class="citations">(.*?)</sup>', cited)
    assert 0 < len(marks) <= 100
    for mark in marks:
        assert mark.count("<a ") <= 5, "sources per mark are bounded"
        assert re.search(r'title="and \d+ more sources">\+\d+</span>$', mark), "the rest are counted"
    left_out = re.search(r'<p class="citations citations-left-out">(\d+) more citation marks were left out', cited)
    assert left_out and len(marks) + int(left_out.group(1)) == len(grounding.supports)
    # The marks that are shown are the first ones, after their sentences.
    assert cited.startswith("<p>Fact 0 is supported.<sup")


def test_the_listed_sources_and_searches_are_bounded_and_the_rest_counted(make_app):
    grounding = grounding_over_every_bound()
    app = make_app()
    with app.test_request_context():
        listed = render_template("_sources.html", grounding=grounding)
    assert len(listed.encode()) <= LISTED_SOURCES_BOUND

    items = re.findall(r"<li>(.*?)</li>", listed, re.S)
    searches = re.findall(r'<span class="search-query">', listed)
    assert items and searches, "some of each are listed"
    assert items[0].endswith('>0 &#34;' + "&#34;" * 196 + "…</a>") and ">1 &#34;" in items[1], "in order, names cut"
    more_sources = re.search(r'<p class="left-out">and (\d+) more sources, not listed here</p>', listed)
    assert more_sources and len(items) + int(more_sources.group(1)) == len(grounding.sources)
    more_searches = re.search(r"</span> and (\d+) more</p>", listed)
    assert more_searches and len(searches) + int(more_searches.group(1)) == len(grounding.queries)
    assert "<b" not in listed and '"&<' not in listed, "all of it text"
