"""Turning model and user text into safe HTML.

Nothing from the model or the user is trusted as HTML: streamed pieces are
escaped, and finished text is rendered as markdown with raw HTML disabled and
then sanitised again with an allow-list (nh3; LaTeX formulas become MathML,
math.py), so a `<script>`, an `onerror=`
or a `javascript:` link can only ever show as text. Code blocks are
highlighted on the server with Pygments, once, when the answer is finished
(render_answer; see highlighting.py for the limits).
"""

import contextvars
import html
import re
from dataclasses import dataclass

import nh3
from markupsafe import Markup
from markdown_it import MarkdownIt

from app.offload import run_off_the_hub
from app.rendering.citations import cite
from app.rendering.highlighting import render_finished
from app.rendering.math import MATHML_ATTRIBUTES, MATHML_TAGS, math_plugin


def _parser(highlight=None):
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": highlight})
        .enable("table")
        .enable("strikethrough")
        .use(math_plugin)
    )


# Streamed blocks and pages: code is shown plain (escaped by markdown-it).
_plain = _parser()

# Finished answers: code goes to the highlight callback of the render in
# progress (each answer has its own, with its own budget). One parser serves
# every render: making one cost more than rendering a short answer.
_highlight = contextvars.ContextVar("highlight")
_highlighting = _parser(lambda code, lang, attrs: _highlight.get()(code, lang, attrs))

# Rendering is linear in the text, but a long block still costs: 80,000
# characters of "![" take over a second. A block longer than this is
# rendered on a native thread, so the worker's other streams go on meanwhile.
INLINE_RENDER_CHARS = 4000

_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "span",
} | MATHML_TAGS
# No <img>: a picture from the model would load a URL the model chose.
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}, "span": {"class"}} | MATHML_ATTRIBUTES
_PRE = re.compile(r"<pre>(.*?)</pre>", re.S)
_COPY_BUTTON = '<button type="button" class="copy-button" data-copy="code">Copy code</button>'


def escape_text(text):
    """Escape text for an HTML text node, keeping carriage returns and NULs.

    A raw CR would be turned into LF by the SSE line parser and a raw NUL is
    dropped by the HTML parser; as character references both survive both.
    """
    return html.escape(text, quote=True).replace("\r", "&#13;").replace("\0", "&#65533;")


def render_markdown(text, highlight=None):
    """Markdown to sanitised HTML; each code block gets a copy button.

    `highlight` is a markdown-it highlight callback (highlighting.highlighter);
    without one, code is plain. The button is added after sanitising: it is
    our markup, not the model's.
    """
    if highlight is None:
        unsafe = _plain.render(text)
    else:
        token = _highlight.set(highlight)
        try:
            unsafe = _highlighting.render(text)
        finally:
            _highlight.reset(token)
    clean = nh3.clean(
        unsafe,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        # A link in an answer opens in a new tab, so the conversation stays
        # (rel above keeps the new tab from reaching back to this one).
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    # The page's <h1> is the conversation's title: a model's "# Heading" is
    # an <h2> in the answer, and so on down (an <h6> stays one).
    clean = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}>", clean)
    # tabindex: a code block or a table that scrolls sideways (a phone) can
    # be reached and scrolled with the keyboard.
    clean = clean.replace(_UNFOCUSABLE_TABLE, FOCUSABLE_TABLE)
    return _PRE.sub(_code_block, clean)


_LANGUAGE = re.compile(r'^<code class="language-([^"]*)"')


def _code_block(match):
    """A code block with its language's name (markdown-it's class, escaped
    by it and kept by nh3) and its Copy button."""
    language = _LANGUAGE.match(match.group(1))
    label = f'<span class="code-language">{language.group(1)}</span>' if language else ""
    return f'<div class="code-block">{label}{_COPY_BUTTON}{FOCUSABLE_PRE}{match.group(1)}</pre></div>'


_HEADING = re.compile(r"<(/?)h([1-6])>")
FOCUSABLE_PRE = '<pre class="highlight" tabindex="0">'
_UNFOCUSABLE_PRE = '<pre class="highlight">'
FOCUSABLE_TABLE = '<table tabindex="0">'
_UNFOCUSABLE_TABLE = "<table>"
# A link as nh3 wrote it before links opened in a new tab (answers stored
# then): its attributes are exactly these, in this order.
_SAME_TAB_LINK = re.compile(r'<a (href="[^"]*"(?: title="[^"]*")?) rel="noopener noreferrer nofollow">')
_NEW_TAB_LINK = r'<a \1 target="_blank" rel="noopener noreferrer nofollow">'


def render_block(text):
    """render_markdown(text), off the gevent hub if the text is long."""
    if len(text) <= INLINE_RENDER_CHARS:
        return render_markdown(text)
    return run_off_the_hub(lambda: render_markdown(text))


def render_answer(text, grounding=None):
    """A finished answer's HTML, code highlighted within the budget, with its
    Google Search citation markers (rendering/citations.py): what is stored."""
    return render_finished(lambda text, highlight: cite(render_markdown(text, highlight), text, grounding), text)


def answer_html(message):
    """A finished answer as its generator rendered it; one that has none (it
    was cut off with its process, or is older than stored rendering) is
    rendered here, with its code plain. (Answers stored before code blocks
    were focusable get their tabindex here, and their links a new tab.)"""
    if message.rendered is None:
        grounding, text = message.sources, message.content
        if not grounding:
            return Markup(render_block(text))
        return Markup(run_off_the_hub(lambda: cite(render_markdown(text), text, grounding)))
    stored = message.rendered.replace(_UNFOCUSABLE_PRE, FOCUSABLE_PRE).replace(_UNFOCUSABLE_TABLE, FOCUSABLE_TABLE)
    return Markup(_SAME_TAB_LINK.sub(_NEW_TAB_LINK, stored))


def thoughts_html(thoughts):
    """The model's finished thinking, rendered as markdown (its summaries
    have bold headings and lists), plain code."""
    return Markup(render_block(thoughts))


class BlockSplitter:
    """Cuts streamed text into finished markdown blocks and an unfinished tail.

    A block ends at a blank line outside a code fence, or at a closing fence.
    While an answer streams, finished blocks are rendered once each and the
    tail is shown as escaped text, so the work per piece depends on the piece,
    not on the length of the answer, and rendered text never changes under
    the reader's eyes.
    """

    def __init__(self):
        self._lines = []  # complete lines of the unfinished block
        self._partial = ""  # the line being written
        self._in_fence = False
        # False after a feed that dropped a blank line between blocks: the
        # tail is then not the old tail plus the piece.
        self.tail_grew_by_piece = True

    def feed(self, piece):
        """Add a piece; return the blocks it finished (markdown source), in order."""
        finished = []
        self.tail_grew_by_piece = True
        *complete, self._partial = (self._partial + piece).split("\n")
        for line in complete:
            if line.lstrip().startswith(("```", "~~~")):
                self._in_fence = not self._in_fence
                self._lines.append(line)
                if not self._in_fence:
                    finished.append(self._take())
            elif not line.strip() and not self._in_fence:
                if self._lines:
                    finished.append(self._take())
                else:
                    self.tail_grew_by_piece = False
            else:
                self._lines.append(line)
        return finished

    @property
    def tail(self):
        """The unfinished block as plain text."""
        return "".join(line + "\n" for line in self._lines) + self._partial

    def _take(self):
        block, self._lines = "\n".join(self._lines), []
        return block


@dataclass(frozen=True)
class ShownSoFar:
    blocks: Markup  # the finished blocks, rendered
    tail: Markup  # the unfinished block, escaped as the stream escapes it
    tail_start: int  # where the unfinished block starts in the text (a block boundary)


def split_for_streaming(text):
    """An unfinished answer as the stream shows it: the same blocks and tail a
    subscriber that had read `text` piece by piece would have on screen."""
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    tail = splitter.tail  # a suffix of `text`: the lines after the last finished block
    return ShownSoFar(Markup("".join(render_block(block) for block in blocks)), Markup(escape_text(tail)),
                      len(text) - len(tail))
