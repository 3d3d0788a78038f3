"""Highlighting every other language in a separate process, killed when its
budget is spent.

Most Pygments lexers (Python, JavaScript, C, Java, Go, Rust, YAML, Kotlin...)
take quadratic or exponential time on crafted input, and a regular
expression cannot be stopped halfway in the process that runs it. So the
blocks in those languages go to a short-lived child process
(this file, run as a script), which writes one line of JSON
per block as soon as it is highlighted. The parent waits at most
PROCESS_SECONDS (wall clock), then kills it: the blocks it finished keep
their colours, the others are shown plain. The child also limits its own CPU
time and memory (setrlimit), in case the parent's kill is late. Tried and
measured first (2026-12-07): tree-sitter grammars in this process; their
parse could not be stopped (38 s in one step on Java `%w(` x 6,700),
their queries took a second on Python `a.` x 10,000, and the YAML grammar
crashed the process on 300 nested "- ".

Under gevent, `subprocess` is gevent's: waiting for the child does not hold
up the worker's other streams (call it from a greenlet, not from gevent's
thread pool).
"""

import json
import os
import resource
import subprocess
import sys
from io import StringIO

from pygments.formatters import HtmlFormatter
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import Text, Whitespace
from pygments.util import ClassNotFound

# The child runs this file as a script (`python -I`), without the app: it
# starts in a tenth of a second and imports nothing the model could reach.
# safe_lexers.OPTIONS, for the same tokens (a test checks they agree).
OPTIONS = {"stripnl": False, "ensurenl": True}
PROCESS_SECONDS = 2.0
CHILD_CPU_SECONDS = 3
CHILD_MEMORY_BYTES = 1 << 30

_formatter = HtmlFormatter(nowrap=True)


def lexer_name(info_string):
    """The language a block says it is in (the first word of its info string), or None."""
    words = (info_string or "").split(None, 1)
    return words[0].lower() if words else None


def known_to_pygments(language):
    """Whether a child would have a lexer for `language` (plain text has
    nothing to colour): no process is started for any other block."""
    return language in _ALIASES


# Pygments' table of names: no lexer is imported for it.
_ALIASES = {alias for _name, aliases, _files, _types in get_all_lexers(plugins=False) for alias in aliases}
_ALIASES -= {"text", "plain", "plaintext", "output"}


def highlight_elsewhere(blocks, seconds=PROCESS_SECONDS):
    """HTML for each (code, language) of `blocks`, or "" for a block the child
    did not finish in time (or has no lexer for), in order."""
    if not blocks:
        return []
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return [""] * len(blocks)
    request = json.dumps([[code, language] for code, language in blocks]).encode()
    try:
        out, _ = child.communicate(request, timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
    results = []
    for line in out.split(b"\n")[: len(blocks)]:
        try:
            results.append(str(json.loads(line)))
        except ValueError:  # the line it was writing when it was killed
            break
    return results + [""] * (len(blocks) - len(results))


def _highlight(code, language):
    try:
        lexer = get_lexer_by_name(language, **OPTIONS)
    except ClassNotFound:
        return ""
    out = StringIO()
    tokens = ((Text if kind in Whitespace else kind, value) for kind, value in lexer.get_tokens(code))
    _formatter.format(tokens, out)
    return out.getvalue()


def _serve():
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    for code, language in json.load(sys.stdin):
        sys.stdout.write(json.dumps(_highlight(code, language)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
