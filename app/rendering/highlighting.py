"""Highlighting code blocks within a budget, whatever the text.

Pygments' lexers are regular expressions, and many of them take quadratic
time on crafted input (an 8,000-character block once cost 19 s of CPU). The
model's text is attacker-controlled (prompt injection, or simply asking it to
repeat something), so:

- lexers measured to be linear (safe_lexers.py, tested by
  tests/rendering/test_lexer_bounds.py) run here; every other language
  Pygments knows (Python, JavaScript, C...) is highlighted in a separate
  process that is killed when its time is up (highlight_process.py);
- a block longer than BLOCK_MAX_CHARS is shown plain;
- one answer's blocks share a time budget, checked between tokens: once it
  is spent, the block being highlighted and every later one is shown plain;
- what is stored is bounded by the text (each span costs ~25 characters, so
  a crafted block of one-character tokens would store 25 times its size): a
  block whose HTML would be more than HTML_MAX_RATIO times its source (and
  BLOCK_HTML_SLACK), or would take the answer's highlighted HTML past
  ANSWER_HTML_MAX_CHARS, is shown plain (markdown-it still labels it with its language, and the page
  gives it its Copy button); whitespace gets no span of its own (it shows
  the same either way), which keeps ordinary code well inside the ratio;
- an answer is highlighted once, when it is finished, by the process that
  generated it, and the result is stored (Message.rendered); streamed blocks
  and pages never highlight;
- the work runs on a native thread (gevent's pool), not on the gevent hub,
  so the worker's other streams go on meanwhile.
"""

import time
from io import StringIO

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from pygments.formatters import HtmlFormatter
from pygments.token import Text, Whitespace

from app.offload import run_off_the_hub
from app.rendering.highlight_process import highlight_elsewhere, known_to_pygments, lexer_name
from app.rendering.safe_lexers import lexer_for

BLOCK_MAX_CHARS = 20_000
ANSWER_BUDGET_SECONDS = 0.5
# How many tokens between two looks at the clock.
TOKENS_PER_CHECK = 64
# Ordinary code highlights to 3-12 times its length once whitespace has no
# spans (measured: shell 2.5, Swift 5.7, SQL 9.4, JSON 11.9); one-character
# tokens reach 25. Escaped plain code is 1-1.2 times its length. A short
# block of one-letter names ("x = 1") is denser, hence the allowance per block.
HTML_MAX_RATIO = 12
BLOCK_HTML_SLACK = 1_000
ANSWER_HTML_MAX_CHARS = 100_000

_formatter = HtmlFormatter(nowrap=True)


class BudgetSpent(Exception):
    pass


class Budget:
    def __init__(self, seconds, html_chars=ANSWER_HTML_MAX_CHARS):
        self.deadline = time.thread_time() + seconds
        self.html_chars_left = html_chars

    @property
    def spent(self):
        return time.thread_time() >= self.deadline


def _within(tokens, budget):
    for count, (kind, value) in enumerate(tokens, 1):
        if count % TOKENS_PER_CHECK == 0 and budget.spent:
            raise BudgetSpent
        yield (Text if kind in Whitespace else kind), value


def highlighter(budget, done_elsewhere=None):
    """A markdown-it `highlight` callback: HTML for a block, or "" to show it
    plain. `done_elsewhere` maps (code, language) to what the highlighting
    process made of the blocks no linear lexer reads."""

    def highlight(code, lang, _attrs):
        if len(code) > BLOCK_MAX_CHARS or budget.spent:
            return ""
        lexer = lexer_for(lang)
        if lexer is None:
            html = (done_elsewhere or {}).get((code, lexer_name(lang)), "")
        else:
            out = StringIO()
            try:
                _formatter.format(_within(lexer.get_tokens(code), budget), out)
            except BudgetSpent:
                return ""
            html = out.getvalue()
        if not html or len(html) > HTML_MAX_RATIO * len(code) + BLOCK_HTML_SLACK or len(html) > budget.html_chars_left:
            return ""
        budget.html_chars_left -= len(html)
        return html

    return highlight


_fences = MarkdownIt("commonmark")


def blocks_for_elsewhere(text):
    """(code, language) of each code block no linear lexer reads, as
    markdown-it will hand them to the highlight callback, within the sizes
    the answer may highlight at all."""
    blocks, chars = [], 0
    for token in _fences.parse(text):
        language = lexer_name(unescapeAll(token.info)) if token.type == "fence" else None
        if language is None or lexer_for(language) is not None or len(token.content) > BLOCK_MAX_CHARS:
            continue
        if not known_to_pygments(language):
            continue
        chars += len(token.content)
        if chars > ANSWER_HTML_MAX_CHARS:
            break
        blocks.append((token.content, language))
    return blocks


def render_finished(render, text, budget_seconds=ANSWER_BUDGET_SECONDS):
    """`render(text, highlight)` for a finished answer, off the hub, within the budget.

    The other languages' blocks go to the highlighting process first, waited
    for from the calling greenlet (gevent's subprocess), not the thread pool."""
    elsewhere = run_off_the_hub(lambda: blocks_for_elsewhere(text)) if "```" in text or "~~~" in text else []
    done_elsewhere = dict(zip(elsewhere, highlight_elsewhere(elsewhere)))
    return run_off_the_hub(lambda: render(text, highlighter(Budget(budget_seconds), done_elsewhere)))
