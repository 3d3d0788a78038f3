"""The Pygments lexers allowed to highlight code blocks in model output.

The model's text is attacker-controlled, and most Pygments lexers do
superlinear work on crafted input: in Pygments 2.21.0, 380 of 602 (among
them autoit, systemd, make, terraform, cfengine3, and also Python,
JavaScript, TypeScript, C, C++, Java, Go, Rust, C#, Kotlin, PHP, HTML, XML,
CSS, YAML, TOML, INI, Markdown, PowerShell, Dockerfile), some exponentially
(Scala on a quote and 40 backslashes: minutes). A code block whose info
string's first word is a key below is highlighted in the app's process; any
other language goes to a process that is killed when its time is up
(highlight_process.py).

Measured 2026-12-01, Pygments 2.21.0, with

    .venv/bin/python bench/lexer_survey.py --size 2000   # these lexers
    .venv/bin/python bench/lexer_survey.py --all         # every Pygments lexer

which lexes each adversarial input of tests/rendering/test_lexer_bounds.py
(ATTACKS) at a size n and at 8n, with OPTIONS, and keeps a lexer only if
its CPU time grows at most 24-fold (linear work grows ~8-fold, quadratic
~64-fold). A lexer may join only after passing that survey and
tests/rendering/test_lexer_bounds.py; after a Pygments upgrade, run both.
"""

from pygments.lexers.ada import AdaLexer
from pygments.lexers.business import CobolLexer
from pygments.lexers.configs import NginxConfLexer, PropertiesLexer
from pygments.lexers.css import SassLexer, ScssLexer
from pygments.lexers.data import JsonLexer
from pygments.lexers.diff import DiffLexer
from pygments.lexers.dotnet import FSharpLexer, VbNetLexer
from pygments.lexers.elm import ElmLexer
from pygments.lexers.erlang import ElixirLexer, ErlangLexer
from pygments.lexers.graphql import GraphQLLexer
from pygments.lexers.haskell import HaskellLexer
from pygments.lexers.json5 import Json5Lexer
from pygments.lexers.julia import JuliaLexer
from pygments.lexers.jvm import ClojureLexer
from pygments.lexers.lean import Lean4Lexer
from pygments.lexers.lisp import RacketLexer, SchemeLexer
from pygments.lexers.make import CMakeLexer
from pygments.lexers.markup import TexLexer
from pygments.lexers.nimrod import NimrodLexer
from pygments.lexers.objective import SwiftLexer
from pygments.lexers.ruby import RubyLexer
from pygments.lexers.shell import BashLexer, BatchLexer
from pygments.lexers.solidity import SolidityLexer
from pygments.lexers.sql import MySqlLexer, PlPgsqlLexer, PostgresLexer, SqlLexer
from pygments.lexers.zig import ZigLexer

# stripnl=False keeps a block's leading and trailing blank lines (Pygments'
# default strips them). ensurenl=True (the default, kept on purpose) gives
# the lexer a last line ending in a newline, as markdown-it's fences always
# do except an unclosed one at the very end of the text: some lexers (Diff,
# TeX, systemd, cfengine3...) are quadratic on a long last line without one
# and linear with it; HtmlFormatter ends the last line with a newline anyway.
# The tokens are then exactly the text, except that "\r\n" and "\r" become
# "\n" and a leading U+FEFF is dropped (markdown-it has already done the first).
OPTIONS = {"stripnl": False, "ensurenl": True}

SAFE_LEXERS = {
    "ada": AdaLexer,
    "bash": BashLexer, "sh": BashLexer, "shell": BashLexer, "zsh": BashLexer,
    "bat": BatchLexer, "batch": BatchLexer, "cmd": BatchLexer,
    "clojure": ClojureLexer, "clj": ClojureLexer,
    "cmake": CMakeLexer,
    "cobol": CobolLexer,
    "diff": DiffLexer, "patch": DiffLexer, "udiff": DiffLexer,
    "elixir": ElixirLexer, "ex": ElixirLexer, "exs": ElixirLexer,
    "elm": ElmLexer,
    "erlang": ErlangLexer, "erl": ErlangLexer,
    "fsharp": FSharpLexer, "f#": FSharpLexer,
    "graphql": GraphQLLexer, "gql": GraphQLLexer,
    "haskell": HaskellLexer, "hs": HaskellLexer,
    "json": JsonLexer, "jsonc": JsonLexer,
    "json5": Json5Lexer,
    "julia": JuliaLexer, "jl": JuliaLexer,
    "latex": TexLexer, "tex": TexLexer,
    "lean": Lean4Lexer, "lean4": Lean4Lexer,
    "mysql": MySqlLexer,
    "nginx": NginxConfLexer,
    "nim": NimrodLexer,
    "plpgsql": PlPgsqlLexer,
    "postgresql": PostgresLexer, "postgres": PostgresLexer,
    "properties": PropertiesLexer,
    "racket": RacketLexer, "rkt": RacketLexer,
    "ruby": RubyLexer, "rb": RubyLexer,
    "sass": SassLexer,
    "scheme": SchemeLexer, "scm": SchemeLexer,
    "scss": ScssLexer,
    "solidity": SolidityLexer, "sol": SolidityLexer,
    "sql": SqlLexer,
    "swift": SwiftLexer,
    "vbnet": VbNetLexer, "vb.net": VbNetLexer, "vb": VbNetLexer,
    "zig": ZigLexer,
}


def lexer_for(info_string):
    """A new lexer for a code block's info string, or None: plain code."""
    words = (info_string or "").split(None, 1)
    cls = SAFE_LEXERS.get(words[0].lower()) if words else None
    return cls(**OPTIONS) if cls is not None else None
