"""Highlighting code blocks within a budget, whatever the text.

Pygments' lexers are regular expressions, and many of them take quadratic
time on crafted input (an 8,000-character block once cost 19 s of CPU). The
model's text is attacker-controlled (prompt injection, or simply asking it to
repeat something), so:

- only lexers measured to be linear are used (safe_lexers.py, tested by
  tests/rendering/test_lexer_bounds.py); any other language is shown plain;
- a block longer than BLOCK_MAX_CHARS is shown plain;
- one answer's blocks share a time budget, checked between tokens: once it
  is spent, the block being highlighted and every later one is shown plain;
- an answer is highlighted once, when it is finished, by the process that
  generated it, and the result is stored (Message.rendered); streamed blocks
  and pages never highlight;
- the work runs on a native thread (gevent's pool), not on the gevent hub,
  so the worker's other streams go on meanwhile.
"""

import time
from io import StringIO

from pygments.formatters import HtmlFormatter

from app.offload import run_off_the_hub
from app.rendering.safe_lexers import lexer_for

BLOCK_MAX_CHARS = 20_000
ANSWER_BUDGET_SECONDS = 0.5
# How many tokens between two looks at the clock.
TOKENS_PER_CHECK = 64

_formatter = HtmlFormatter(nowrap=True)


class BudgetSpent(Exception):
    pass


class Budget:
    def __init__(self, seconds):
        self.deadline = time.thread_time() + seconds

    @property
    def spent(self):
        return time.thread_time() >= self.deadline


def _within(tokens, budget):
    for count, token in enumerate(tokens, 1):
        if count % TOKENS_PER_CHECK == 0 and budget.spent:
            raise BudgetSpent
        yield token


def highlighter(budget):
    """A markdown-it `highlight` callback: HTML for a block, or "" to show it plain."""

    def highlight(code, lang, _attrs):
        lexer = lexer_for(lang)
        if lexer is None or len(code) > BLOCK_MAX_CHARS or budget.spent:
            return ""
        out = StringIO()
        try:
            _formatter.format(_within(lexer.get_tokens(code), budget), out)
        except BudgetSpent:
            return ""
        return out.getvalue()

    return highlight


def render_finished(render, text, budget_seconds=ANSWER_BUDGET_SECONDS):
    """`render(text, highlight)` for a finished answer, off the hub, within the budget."""
    return run_off_the_hub(lambda: render(text, highlighter(Budget(budget_seconds))))
