"""The Pygments lexers allowed to highlight code blocks in model output.

The model's text is attacker-controlled, and many Pygments lexers take
quadratic time on crafted input (autoit, systemd, make, terraform, cfengine3
and, in Pygments 2.21.0, Python, JavaScript, TypeScript, C, C++, Java, Go,
HTML, CSS, YAML, XML, PHP, Kotlin, C#...): 8,000 characters can cost
seconds of CPU. A code block is highlighted only if the first word of its
info string is a key below; any other block is shown as plain escaped code.

Measured 2026-12-01 on Pygments 2.21.0 with

    .venv/bin/python bench/lexer_survey.py          # these lexers
    .venv/bin/python bench/lexer_survey.py --all    # every Pygments lexer

which lexes each input of tests/rendering/test_lexer_bounds.py (ATTACKS)
at a size n and at 8n, with the options below, and keeps a lexer only if
its CPU time grows at most 24-fold (linear work grows ~8-fold, quadratic
~64-fold). A lexer may join only after passing
tests/rendering/test_lexer_bounds.py; after a Pygments upgrade, run the
survey again.
"""

from pygments.lexers.data import JsonLexer
from pygments.lexers.diff import DiffLexer
from pygments.lexers.dotnet import FSharpLexer, VbNetLexer
from pygments.lexers.erlang import ElixirLexer, ErlangLexer
from pygments.lexers.graphql import GraphQLLexer
from pygments.lexers.haskell import HaskellLexer
from pygments.lexers.json5 import Json5Lexer
from pygments.lexers.julia import JuliaLexer
from pygments.lexers.jvm import ClojureLexer
from pygments.lexers.configs import NginxConfLexer
from pygments.lexers.css import SassLexer, ScssLexer
from pygments.lexers.markup import TexLexer
from pygments.lexers.objective import SwiftLexer
from pygments.lexers.ruby import RubyLexer
from pygments.lexers.shell import BashLexer, BatchLexer
from pygments.lexers.sql import MySqlLexer, PostgresLexer, SqlLexer

# stripnl=False keeps a block's leading and trailing blank lines (Pygments'
# default strips them). ensurenl=True (the default, kept on purpose) gives
# the lexer a last line ending in a newline, as markdown-it's fences do
# except an unclosed one at the very end: several lexers (Rust, Scala, Dart,
# Diff, TeX) are quadratic on a long last line without one, linear with it,
# and HtmlFormatter ends the last line with a newline in either case.
OPTIONS = {"stripnl": False, "ensurenl": True}

SAFE_LEXERS = {
    "bash": BashLexer, "sh": BashLexer, "shell": BashLexer, "zsh": BashLexer,
    "bat": BatchLexer, "batch": BatchLexer, "cmd": BatchLexer,
    "clojure": ClojureLexer, "clj": ClojureLexer,
    "diff": DiffLexer, "patch": DiffLexer, "udiff": DiffLexer,
    "elixir": ElixirLexer, "ex": ElixirLexer, "exs": ElixirLexer,
    "erlang": ErlangLexer, "erl": ErlangLexer,
    "fsharp": FSharpLexer, "f#": FSharpLexer,
    "graphql": GraphQLLexer, "gql": GraphQLLexer,
    "haskell": HaskellLexer, "hs": HaskellLexer,
    "json": JsonLexer, "jsonc": JsonLexer,
    "json5": Json5Lexer,
    "julia": JuliaLexer, "jl": JuliaLexer,
    "latex": TexLexer, "tex": TexLexer,
    "mysql": MySqlLexer,
    "nginx": NginxConfLexer,
    "postgresql": PostgresLexer, "postgres": PostgresLexer,
    "ruby": RubyLexer, "rb": RubyLexer,
    "sass": SassLexer,
    "scss": ScssLexer,
    "sql": SqlLexer,
    "swift": SwiftLexer,
    "vbnet": VbNetLexer, "vb.net": VbNetLexer, "vb": VbNetLexer,
}


def lexer_for(info_string):
    """A new lexer for a code block's info string, or None: plain code."""
    words = (info_string or "").split(None, 1)
    cls = SAFE_LEXERS.get(words[0].lower()) if words else None
    return cls(**OPTIONS) if cls is not None else None
