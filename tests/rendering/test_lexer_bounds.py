"""Every lexer that highlights model output does work linear in the text.

The model's answer is attacker-controlled, and most Pygments lexers take
superlinear time on crafted input: a rule whose regex scans to the end of
the line or text (a string or comment that never closes, a `\\s*` that runs
over every following blank line, a lookahead over a long word) fails, one
character is consumed, and the same scan starts again at the next position;
a few backtrack exponentially. 8,000 characters cost seconds of CPU. So code
blocks are highlighted only by the lexers of app/rendering/safe_lexers.py,
and this test feeds each of them, as lexer_for makes it, the worst inputs
we know of (WORST) at a size n and at K*n, and checks that the CPU time
grows about K-fold (linear), not K²-fold (quadratic). A second test shows
that the check does flag a quadratic lexer.

The inputs (ATTACKS, of which WORST is a part) and the check (growth,
screen, confirm, is_superlinear) live here, and bench/lexer_survey.py
imports them from this module (bench/ is not a package): the survey that
admits a lexer, on all of ATTACKS, and this test measure the same way.

No absolute time is asserted, only how time grows with the size, measured as
CPU time of this thread (time.thread_time: CPU time like time.process_time,
but it counts no other thread's work, and it stays precise while the SIGPROF
timer that stops a runaway measurement is armed, when process_time becomes
tick-granular (4 ms) on Linux). A runaway run is stopped once it has grown
too much: the file takes about 30 s of CPU.
"""

import math
import random
import signal
import string
import threading
import time
from dataclasses import dataclass

import pytest

from app.rendering.safe_lexers import OPTIONS, SAFE_LEXERS, lexer_for

K = 8  # the large size is K times the small one
LIMIT = 3 * K  # linear work grows ~K-fold, quadratic ~K²-fold (64)
SCREEN_N = 1000  # one quick measurement of each input at this size...
SCREEN_LIMIT = 1.5 * K  # ...and the inputs that grew more than this are measured again, carefully:
CONFIRM_N = 4000  # at this size or larger,
MIN_SMALL = 0.01  # until the small size takes this much CPU (s), so that noise is small,
MAX_N = 16000  # but no larger than this (beyond, memory effects blur the ratios),
REPEATS = 3  # taking the least of this many runs of each size.
# Sizes: a lexer whose quadratic work equals its linear work at c characters
# grows 1.5K-fold from n = c/13 and 3K-fold from n = 0.4c, so these catch
# every lexer with c up to about 10,000 characters (Dart on "/*" lines:
# c = 4,000, 0.75 s at 32,000 characters; Dockerfile on "{#": c = 10,000).
# The survey that admits a lexer looks further (bench/lexer_survey.py
# --size 2000: c up to 20,000), so that the allowed ones pass here by a margin.
# A run of the small size is stopped after this many CPU seconds, a
# hundred times what a linear lexer needs: it is then exponential
# (Scala's `"(\\\\|\\"|[^"])*"` on a quote and 41 backslashes: minutes).
SMALL_CAP = 2.0


# --- The inputs -------------------------------------------------------------
# Each takes a size n and returns a text of n characters (give or take a
# head); they are deterministic.


def _repeat(unit):
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _after(head, unit):
    return lambda n: head + _repeat(unit)(max(n - len(head), 0))


def _random(alphabet, seed):
    def make(n):
        rng = random.Random(seed)
        return "".join(rng.choice(alphabet) for _ in range(n))

    return make


# One character n times: every character that starts a token in some lexer,
# whitespace (a `^\s*` rule runs over all following blank lines), and words of
# letters, digits, capitals and non-ASCII letters (a `\w+(?=...)` lookahead
# that fails at every position of a long word).
SINGLE = string.punctuation + " \t\n" + "ax0AZ_" + "\xa0é中"
# Openers that never close, repeated: each one starts a scan to the end.
OPENERS = [
    "/*", "'''", '"""', "<!--", "${", "{{", "[[", "#{", "<<", "```", "$(", "<?", "(*", "{-", "--[[", "#|",
    "%{", "{%", "<%", '@"', 'r"', 'r#"', "\\(", "<![CDATA[", "<a ", "<a b=", "=begin", "q(", "%w(", "\\begin{",
    "@{", "${a", "$((", "[=[", "<<-", "<<<", "{{{", "/+", "%(", "&#", "#[", "#!", "//", "#=", "(:", '"\\', "'\\",
    "{#", "[%", "{|", "/**", "%%{", "<<=", '$"', 'f"', 'b"', "@'",
]
# Pairs that alternate two token kinds (escapes before quotes, operators
# after names, numbers that look like they continue), repeated.
PAIRS = [
    'a"', "a'", "a`", '\\"', "\\'", "x = ", "a.", "0x", "1e", "--", "1.", "a:", "a::", "a,", "a(", "a)", "a ",
    "a-", "a_", "$a", "@a", "%a", "#a", "&a", "a=", "a\\", "\\\n", "a/", "/a", "a*", ".a", ":a", "a\t", "a;",
    " \n", "\t\n", "a\n", "0 ", "1_", "a#", "%%", "a<", "<a", "<a>", "</", "a!", "a?", "a|", "1:", "a{", "a[",
    "\\a", "$$", "::", "..", "==", "->", "=>", ", ", "; ", "a<b", ' = "', "x: ", "- ", "* ", "# ", "1 ", " -",
    "aA", "A_", "a0", "é ", "a é", "\\\\", "\\\n\n",
]
# Many short lines, each opening a construct the line does not close.
LINES = [
    '"abc', "'abc", "/*abc", "`abc", "$(abc", "#{abc", "{", "(", "[", 'a = "', "a\\", "<a", "[a", 'a: "',
    "<<EOF", '@"a', "a = (", "x = [", "'''a", '"""a', "${a", "<!--a", "a ", " ", "\t", "#", "//", "-- ", ";",
    "a = 1 +", "if (", "def f(", "a :=", "%", "[a]", "a=b", " a", "\\", 'key = "', "= ", ": ",
    "$ a", ">>>  ", "...  ",  # session prompts: the rest of the line goes to a code lexer
]
# A construct opened once whose end never comes, then a long body.
HEADS = [
    ("<<EOF\n", "abc\n"), ("cat <<'EOF'\n", "a b\n"), ("<<<EOF\n", "a\n"), ("<<~EOS\n", "ab\n"), ('"', "a\n"),
    ("'", "a\n"), ("/*", "a\n"), ("`", "a\n"), ("$(", "a\n"), ("<!--", "a\n"), ('"""', "a\n"), ("{", "a\n"),
    ("(", "a\n"), ("[", "a\n"), ("<", "a "), ('"', "a "), ("'", "a "), ('x = "', " "), ("$(", "a "), ("{", "a "),
    ("(", "a "), ("[", "a, "), ("#", "a "), ("<a ", 'b="c" '), ("{{", "a "), ("/*", "*"),
    # a quote, then backslashes: `"(\\\\|\\"|[^"])*"` tries every way to pair them
    ('"', "\\\\"), ("'", "\\\\"), ("`", "\\\\"), ("/", "\\\\"),
    ('"', "\\\n"), ("'", "\\\n"),  # and backslash-newlines
    ("<?php ", "a "), ("---\n", "a: b\n"), ("[", "a]["), ("$", "{a}"),
    # and one long word
    ("<", "a"), ("&", "a"), ('"', "a"), ("'", "a"), ("/*", "a"), ("`", "a"), ("@", "a"), ("$", "a"), ("#", "a"),
    (".", "a"), ("0x", "f"), ("\\", "a"),
]
PUNCTUATION = string.punctuation + " \n"
CODE_CHARACTERS = "ab01_ \n\t\"'`\\/*#{}()[]<>$@%=:;.,-+!?&|^~"

ATTACKS = {}
for _unit in list(SINGLE) + OPENERS + PAIRS:
    ATTACKS.setdefault(f"{_unit!r}*n", _repeat(_unit))
for _line in LINES:
    ATTACKS[f"{_line + chr(10)!r}*n"] = _repeat(_line + "\n")
for _head, _unit in HEADS:
    ATTACKS[f"{_head!r}+{_unit!r}*n"] = _after(_head, _unit)
ATTACKS["words, one line"] = _repeat("alpha beta_2 Gamma(x) ")
for _seed in range(3):
    ATTACKS[f"random punctuation #{_seed}"] = _random(PUNCTUATION, _seed)
    ATTACKS[f"random code characters #{_seed}"] = _random(CODE_CHARACTERS, 100 + _seed)

# The test's inputs: the worst ones. In `bench/lexer_survey.py --all`
# (2026-12-01, Pygments 2.21.0), 380 of the 602 lexers were superlinear on
# some of ATTACKS; measured as this test measures, these 54 inputs catch 376
# of them (the other 4 are at the edge of what these sizes can see). All of
# ATTACKS is for admitting a lexer (the survey); these keep the test quick.
WORST = [
    "'#'*n", "'$'*n", "'&'*n", "'+'*n", "'-'*n", "':'*n", "'['*n", "'_'*n", "'`'*n", "'{'*n", "'\\t'*n", "'\\n'*n",
    "'a'*n", "'x'*n", "'0'*n", "'é'*n", "'<!--'*n", "'${'*n", "'[['*n", "'#{'*n", "'<?'*n", "'(*'*n", "'%{'*n",
    "'<%'*n", '\'r#"\'*n', "'&#'*n", '\'"\\\\\'*n', '"\'\\\\"*n', "'{#'*n", '\'\\\\"\'*n', '"\\\\\'"*n', "'a.'*n",
    "'--'*n", "'$a'*n", "' \\n'*n", "'\\t\\n'*n", "'1_'*n", "'a{'*n", "'..'*n", "'a<b'*n", "'A_'*n", "'/*abc\\n'*n",
    "'[a\\n'*n", "'<<EOF\\n'*n", "'def f(\\n'*n", "'>>>  \\n'*n", "'<<<EOF\\n'+'a\\n'*n", '"\'"+\'a\\n\'*n',
    "'`'+'a\\n'*n", '"\'"+\'a \'*n', '\'"\'+\'\\\\\\\\\'*n', '"\'"+\'a\'*n', "'@'+'a'*n", "'\\\\'+'a'*n",
]
assert set(WORST) <= set(ATTACKS)


# --- The check --------------------------------------------------------------


class _Overtime(Exception):
    pass


def cpu_seconds(lexer, text, budget=None):
    """CPU time of this thread to lex `text` to its last token, as
    pygments.highlight does; math.inf once it exceeds `budget` seconds (a
    SIGPROF timer stops it, in the main thread only)."""
    start = time.thread_time()
    armed = budget is not None and threading.current_thread() is threading.main_thread()
    state = {"done": False}
    if armed:

        def over(_signum, _frame):
            if state["done"]:
                return
            spent = time.thread_time() - start
            if spent >= budget:
                raise _Overtime
            # SIGPROF counts every thread's CPU: wait for this thread's own.
            signal.setitimer(signal.ITIMER_PROF, max(budget - spent, 0.001))

        previous = signal.signal(signal.SIGPROF, over)
        signal.setitimer(signal.ITIMER_PROF, max(budget, 0.001))
    try:
        for _ in lexer.get_tokens(text):
            pass
        state["done"] = True
        return time.thread_time() - start
    except _Overtime:
        return math.inf
    finally:
        state["done"] = True
        if armed:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)


@dataclass(frozen=True)
class Growth:
    attack: str
    n: int  # the small size; the large one is K*n
    small: float  # CPU seconds, least of the runs
    big: float  # math.inf: each run was stopped after `budget` seconds
    budget: float = math.inf

    @property
    def ratio(self):
        return self.big / self.small if 0 < self.small < math.inf else math.inf

    def small_text(self):
        return f"{self.small * 1e3:.2f} ms" if self.small != math.inf else f">{self.budget * 1e3:.0f} ms"

    def big_text(self):
        if self.small == math.inf:
            return "not run"
        return f"{self.big * 1e3:.1f} ms" if self.big != math.inf else f">{self.budget * 1e3:.0f} ms"

    def ratio_text(self):
        if self.big != math.inf:
            return f"x{self.ratio:.1f}"
        return f"x>{self.budget / self.small:.0f}" if 0 < self.small < math.inf else "x?"  # not measured

    def __str__(self):
        return f"{self.attack} at n={self.n}: {self.small_text()}, at {K}n {self.big_text()}, {self.ratio_text()}"


def growth(lexer, attack, n, *, repeats=REPEATS, min_small=None, max_n=MAX_N, stop_above=LIMIT,
           floor=LIMIT * MIN_SMALL, cap=None, retry_stopped=True):
    """How the CPU time to lex ATTACKS[attack] grows from size n to K*n.

    With min_small, n is doubled (up to max_n) until the small size costs at
    least that much. The large size is run until one run grows less than
    stop_above (the least of `repeats` runs counts; a stopped run is run
    again only with retry_stopped), and each run is stopped
    once it has cost stop_above times the small size (but not before `floor`
    seconds: is_superlinear ignores less), or `cap` seconds: it has then
    grown too much already.
    A run of the small size is stopped after `cap` or SMALL_CAP seconds.
    """
    make = ATTACKS[attack]
    small_cap = SMALL_CAP if cap is None else cap
    while True:
        text = make(n)
        small = math.inf
        for _ in range(repeats):
            small = min(small, cpu_seconds(lexer, text, small_cap))
            if small == math.inf:
                return Growth(attack, n, math.inf, math.inf, small_cap)
        if min_small is None or small >= min_small or n * 2 > max_n:
            break
        n *= 2
    budget = max(stop_above * small, floor) if stop_above else math.inf
    budget = min(budget, cap if cap is not None else math.inf)
    big_text = make(K * n)
    big = math.inf
    for _ in range(repeats):
        big = min(big, cpu_seconds(lexer, big_text, budget if budget != math.inf else None))
        if (stop_above and big <= stop_above * small) or (big == math.inf and not retry_stopped):
            break
    return Growth(attack, n, small, big, budget)


def screen(lexer, attacks, n=SCREEN_N):
    """One quick run of each input: those whose time grew more than
    SCREEN_LIMIT, to be measured again with `confirm`."""
    found = []
    for attack in attacks:
        measured = growth(lexer, attack, n, repeats=1, stop_above=SCREEN_LIMIT, floor=0.001)
        if measured.ratio > SCREEN_LIMIT:
            found.append(measured)
    return found


def confirm(lexer, attack, **options):
    """The careful measurement: sizes large enough to beat noise, least of runs."""
    return growth(lexer, attack, CONFIRM_N, min_small=MIN_SMALL, **options)


def is_superlinear(measured):
    # A lexer that lexes even K*MAX_N characters of an input in less CPU
    # than LIMIT*MIN_SMALL does too little work on it for the ratio of two
    # such small times to mean anything (a one-token input, say), and too
    # little to matter.
    return measured.ratio > LIMIT and measured.big > LIMIT * MIN_SMALL


def superlinear_inputs(lexer, attacks):
    """The inputs on which `lexer` is measured superlinear (a list of Growth)."""
    return [m for m in (confirm(lexer, s.attack) for s in screen(lexer, attacks)) if is_superlinear(m)]


# --- The tests --------------------------------------------------------------


def _one_alias_per_lexer():
    firsts = {}
    for alias, cls in SAFE_LEXERS.items():
        firsts.setdefault(cls, alias)
    return sorted(firsts.values())


@pytest.mark.parametrize("alias", _one_alias_per_lexer())
def test_every_allowed_lexer_is_linear_on_the_worst_inputs(alias):
    # The lexer exactly as the app gets it (options included: ensurenl, for
    # one, changes how some lexers behave on a last line).
    found = superlinear_inputs(lexer_for(alias), WORST)
    assert not found, f"{SAFE_LEXERS[alias].__name__} grows superlinearly:\n" + "\n".join(map(str, found))


# Make's target rule `([^\n:]+)(:+)` looks for a colon to the end of the line
# from every position where no other rule matches, so a line without one
# costs its length squared: 'a"a"a"...' of 32,000 characters, about 2.5 s.
KNOWN_QUADRATIC = ("pygments.lexers.make", "MakefileLexer", "'a\"'*n")


def test_the_check_flags_a_quadratic_lexer():
    module, name, attack = KNOWN_QUADRATIC
    lexer = getattr(__import__(module, fromlist=[name]), name)(**OPTIONS)
    found = superlinear_inputs(lexer, [attack])
    assert [m.attack for m in found] == [attack]
    assert found[0].ratio > LIMIT


def test_lexer_for_refuses_what_is_not_allowed():
    # Python is refused too: its lexer is quadratic on whitespace-only lines.
    for name in ["autoit", "systemd", "make", "terraform", "cfengine3", "python", "", "   ", "nonsense", None]:
        assert lexer_for(name) is None, name
    for name in ["Ruby ", " BASH", "json extra words", "SQL"]:
        assert isinstance(lexer_for(name), SAFE_LEXERS[name.split()[0].lower()]), name
    assert lexer_for("ruby") is not lexer_for("ruby")  # a new one each time


@pytest.mark.parametrize("alias", _one_alias_per_lexer())
def test_the_tokens_are_the_text(alias):
    # With stripnl=False leading and trailing blank lines stay; a text that
    # does not end with a newline gets one (ensurenl), which HtmlFormatter
    # adds to the last line anyway.
    code = '\n\n  x = "é" <b> & 1 # c\n\tend\n\n'
    lexer = lexer_for(alias)
    assert "".join(value for _, value in lexer.get_tokens(code)) == code
    assert "".join(value for _, value in lexer.get_tokens(code.rstrip("\n"))) == code.rstrip("\n") + "\n"


# --- The common languages: highlighted in a process that is killed ---------
# Their Pygments lexers are superlinear (Python on whitespace-only lines,
# and the rest above), so they never run in the app's process: each answer's
# blocks go to a child process killed after PROCESS_SECONDS
# (app/rendering/highlight_process.py). What is bounded: the time an answer
# takes (a generous allowance over the kill, not a measurement) and the size
# of what is stored.

COMMON = [
    "python", "javascript", "typescript", "html", "css", "go", "rust", "java", "c", "cpp", "yaml", "ruby", "php",
    "kotlin", "swift", "csharp", "scala", "toml", "xml", "markdown", "powershell", "dockerfile", "lua", "r", "dart",
]
WORST_BLOCK_CHARS = 2000


@pytest.mark.parametrize("language", COMMON)
def test_common_languages_on_the_worst_inputs_cost_a_bounded_time_and_size(language):
    from app.rendering.highlight_process import PROCESS_SECONDS
    from app.rendering.highlighting import ANSWER_HTML_MAX_CHARS
    from app.rendering.markdown import render_answer

    blocks = [ATTACKS[attack](WORST_BLOCK_CHARS).replace("`", "'") for attack in WORST]
    answer = "".join(f"~~~{language}\n{block}\n~~~\n\n" for block in blocks)
    started = time.monotonic()
    html = render_answer(answer)
    assert time.monotonic() - started < PROCESS_SECONDS + 30
    # Plain escaped code, at most ANSWER_HTML_MAX_CHARS of highlighting on
    # top, and each block's frame (label, Copy button).
    assert len(html) <= 1.5 * len(answer) + ANSWER_HTML_MAX_CHARS + 300 * len(blocks)
