"""The streaming tail (static/streaming_tail.js) against the final rendering
(app/rendering/markdown.py, render_markdown), on two corpora, in Chromium.

While an answer streams, the server renders each finished block and sends the
block still being written as text; the script shows that text formatted. When
the block finishes (a blank line, a closing fence) or the answer ends, the
server's rendering of the same text takes its place. The contract, for every
text the unfinished block holds between two lines (its lines written in full,
each ended with a newline: what the tail shows while the next line has not
begun, and just before the blank line that finishes the block), is that the
tail shows EITHER

- the final rendering: the same visible text (innerText, runs of whitespace
  made one space; code blocks' text exactly) and the same structure, the
  sequence of block elements (p, h2-h6, ul/ol and their start, li, pre, code
  and its language class, blockquote, table, thead, tbody, tr, th, td, hr)
  and inline elements (strong, em, del, code, a and its href, br, math) in document
  order; OR
- the whole block as plain text: the script's view hidden and the escaped
  source the server sent shown as it is.

Never a third thing: no list, heading, emphasis or link the final rendering
will not have, no character missing or added, no `**` shown in a formatted
block. What the script shows for the line still being written (a `**` it
shows as bold before the closing marker comes, a `-` it waits on) is out of
this contract: the rest of the line decides it. So is one reading ahead of
the same kind: a last line that starts with `|` is shown as a table's header
row while the line after it, its delimiter row most likely, has not begun
(a table that appears a row late would jump more often than a paragraph of
pipes that shows as a table for a moment).

The corpora: the CommonMark specification's 652 examples (tail_corpus/, with
its licence note) and answers written as Gemini writes them
(tail_corpus/answers.py), each cut into blocks as the server cuts a stream
(BlockSplitter), each block taken at each of its line ends. Every such text
is a bubble of its own on one page, rendered in one frame by the script as
it renders a page's streaming answers.
"""

import json
import re
from pathlib import Path

import pytest

from app.rendering.markdown import BlockSplitter, render_markdown
from tests.end_to_end.tail_corpus.answers import ANSWERS

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "streaming_tail.js"
CORPUS = Path(__file__).resolve().parent / "tail_corpus"
SPEC = json.loads((CORPUS / "commonmark-spec-0.31.2.json").read_text(encoding="utf-8"))

# Elements that the tail may make, and nothing else (the page's own markup: a
# code block's frame, its language and its Copy button).
TAIL_ELEMENTS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "code", "blockquote", "table", "thead", "tbody",
    "tr", "th", "td", "hr", "strong", "em", "a", "br", "div", "span", "button",
}

# Per bubble: shown as plain text, or the formatted view's text and shape; and
# the same of the server's rendering, parsed into the same page.
COMPARE = """async (cases) => {
  const BLOCKS = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'PRE', 'BLOCKQUOTE', 'TABLE',
                          'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'HR']);
  const INLINES = new Set(['STRONG', 'EM', 'CODE', 'A', 'BR', 'DEL', 'MATH']);
  function shape(root) {
    const out = [];
    (function walk(node) {
      for (const kid of node.children) {
        const tag = kid.tagName.toUpperCase(), kept = BLOCKS.has(tag) || INLINES.has(tag);
        let label = tag.toLowerCase();
        if (tag === 'OL' && kid.hasAttribute('start')) label += ' start=' + kid.getAttribute('start');
        if (tag === 'A') label += ' href=' + JSON.stringify(kid.getAttribute('href'));
        if (tag === 'CODE' && kid.className) label += ' class=' + JSON.stringify(kid.className);
        if (tag === 'PRE') label += ' text=' + JSON.stringify(kid.textContent);
        if (kept) out.push('<' + label + '>');
        if (tag !== 'MATH') walk(kid);
        if (kept) out.push('</' + tag.toLowerCase() + '>');
      }
    })(root);
    return out.join('');
  }
  const text = (element) => element.innerText.replace(/\\s+/g, ' ').trim();
  const host = document.getElementById('host'), finals = [];
  host.replaceChildren();
  cases.forEach(([raw, html], i) => {
    const bubble = document.createElement('article');
    bubble.className = 'message assistant outcome-streaming';
    bubble.innerHTML = `<div class="markdown" id="m-${i}-blocks"></div><div class="text" id="m-${i}-text"></div>`;
    bubble.lastChild.textContent = raw;
    const final = document.createElement('div');
    final.className = 'markdown';
    final.innerHTML = html;  // the server's sanitised rendering, as the page swaps it in
    finals.push(final);
    host.append(bubble, final);
  });
  while (document.querySelectorAll('.streaming-tail').length < cases.length) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  const links = [...document.querySelectorAll('.streaming-tail a[href]')].map((a) => a.getAttribute('href'));
  return {
    links: links,
    tags: [...new Set([...document.querySelectorAll('.streaming-tail *')].map((e) => e.tagName.toLowerCase()))],
    results: cases.map((_case, i) => {
      const raw = document.getElementById(`m-${i}-text`), view = raw.nextElementSibling;
      const plain = !raw.hidden && view.hidden;
      return {
        plain: plain, shown_raw: raw.textContent === cases[i][0],
        tail: plain ? null : {text: text(view), shape: shape(view)},
        final: {text: text(finals[i]), shape: shape(finals[i])},
      };
    }),
  };
}"""


def unfinished_blocks(text):
    """What a stream of `text` shows as its unfinished block between lines:
    each block as the server cuts it (BlockSplitter), up to each of its line
    ends. The last of each is what the server's rendering of the block replaces."""
    splitter = BlockSplitter()
    for block in splitter.feed(text) + [splitter.tail]:
        lines = block.rstrip("\n").split("\n")
        for end in range(1, len(lines) + 1):
            if "".join(lines[:end]).strip():
                yield "".join(line + "\n" for line in lines[:end])


def corpus_cases(texts):
    """(label, tail text) for each block of each (label, text), once each."""
    seen, cases = set(), []
    for label, text in texts:
        for block in unfinished_blocks(text):
            if block not in seen:
                seen.add(block)
                cases.append((label, block))
    return cases


SPEC_CASES = corpus_cases((f"spec {example['example']} ({example['section']})", example["markdown"])
                          for example in SPEC)
ANSWER_CASES = corpus_cases((f"answer {number}", answer) for number, answer in enumerate(ANSWERS, 1))


@pytest.fixture(scope="module")
def corpus_page(browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content('<main id="host"></main>')
    page.add_script_tag(path=str(SCRIPT))
    yield page
    page.close()
    assert errors == []


def compare(page, cases):
    """Each case's outcome: (label, tail text, "plain" | "same" | the difference)."""
    answer = page.evaluate(COMPARE, [[text, render_markdown(text)] for _label, text in cases])
    assert set(answer["tags"]) <= TAIL_ELEMENTS, "the tail made an element it must not"
    schemes = {href.split(":")[0].lower() for href in answer["links"] if ":" in href.split("/")[0]}
    assert schemes <= {"http", "https", "mailto"}, "a link kept an address the server's sanitiser drops"
    outcomes = []
    for (label, text), result in zip(cases, answer["results"]):
        assert result["shown_raw"]
        tail, final = result["tail"], result["final"]
        if result["plain"]:
            outcomes.append((label, text, "plain"))
        elif tail == final:
            outcomes.append((label, text, "same"))
        elif reads_a_table_ahead(text, tail, final):
            outcomes.append((label, text, "table ahead"))
        else:
            kind = "text" if tail["text"] != final["text"] else "structure"
            outcomes.append((label, text, f"{kind}:\n  tail:  {tail}\n  final: {final}"))
    return outcomes


def reads_a_table_ahead(text, tail, final):
    """The tail shows a last line that starts with "|" as a table's header
    where the final rendering, with no delimiter row yet, has a paragraph."""
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    return (re.match(r" {0,3}\|", last) is not None and tail["shape"].endswith("</th></tr></thead></table>")
            and final["shape"].endswith("</p>"))


def report(outcomes):
    different = [outcome for outcome in outcomes if outcome[2] not in ("plain", "same", "table ahead")]
    return "\n".join(f"{label}: {text!r}\n {difference}" for label, text, difference in different)


def counts(outcomes):
    kinds = {"same": 0, "plain": 0, "table ahead": 0, "text": 0, "structure": 0}
    for _label, _text, outcome in outcomes:
        kinds[outcome.split(":")[0]] += 1
    return kinds


def test_the_tail_shows_each_commonmark_example_as_the_final_answer_or_as_plain_text(corpus_page):
    outcomes = compare(corpus_page, SPEC_CASES)
    assert report(outcomes) == ""
    # Plain text for everything would keep the contract too: most of the
    # spec is formatted (913 of its 1,113 texts when this was written; the
    # rest is mostly link reference definitions, unusual links, entities,
    # images, autolinks, tabs and lazy continuation lines).
    assert counts(outcomes)["same"] >= 880


def test_the_tail_shows_gemini_style_answers_as_the_final_answer_or_as_plain_text(corpus_page):
    outcomes = compare(corpus_page, ANSWER_CASES)
    assert report(outcomes) == ""
    # Only a block with a formula (MathML, made by the server) or a line
    # that continues a quotation lazily is shown plain.
    plain = [text for _label, text, outcome in outcomes if outcome == "plain"]
    assert plain and all("$" in text or text.startswith("> first line\nsecond line") for text in plain), plain
