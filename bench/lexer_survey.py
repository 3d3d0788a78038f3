"""Which Pygments lexers do superlinear work on adversarial input.

    .venv/bin/python bench/lexer_survey.py [--all [--resume-at CLASS] | --lexers autoit,make]
                                           [--size N] [--cap SECONDS] [--cover]

For each lexer (by default the allowed ones, app/rendering/safe_lexers.py;
--all: every lexer of pygments.lexers.get_all_lexers(); --lexers: those
aliases), each adversarial input of tests/rendering/test_lexer_bounds.py
(ATTACKS; the inputs and the measurement are that test's, imported from it
since bench/ is not a package) is lexed at a size n (--size, default 1000)
and at 8n with the options the app uses (safe_lexers.OPTIONS), and the CPU
times are compared: linear work grows about 8-fold, quadratic about 64-fold.

The inputs that grew more than 12-fold are measured again, worst first, at
n >= max(4000, 4 * --size) (doubled, up to 16,000, until n costs 10 ms of
CPU), the least of 3 runs: the lexer is superlinear if one grows more than
24-fold, and the first such input ends its survey (without --all it is run
once more, up to 128-fold, for the table). Runs are stopped (shown ">")
once they have cost 12 times (first pass) or 24 times the small size's
CPU, or --cap seconds (default 5); a run stopped by the cap counts as
superlinear, and an "x?" means the small size alone took longer than that
(exponential backtracking, or a lexer that never finishes).

One row per lexer as it goes: how many inputs grew more than 12-fold in the
first pass, the worst input measured again (or the first pass's worst), its
n, CPU at n and 8n and the ratio; then the superlinear lexers, worst first.
--cover also prints a few inputs that together grew more than 12-fold on
every superlinear lexer found (the test's WORST was chosen from them).

A lexer is allowed only if it comes out linear with --size 2000 (the test
looks with --size 1000: the margin keeps it from flaking on a lexer at the
edge) and passes the test. CPU: the allowed lexers about 6 minutes at
--size 2000; --all about 2.5 hours.
"""

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pygments.lexers import find_lexer_class, find_lexer_class_by_name, get_all_lexers  # noqa: E402

from app.rendering.safe_lexers import OPTIONS, SAFE_LEXERS  # noqa: E402
from tests.rendering.test_lexer_bounds import (  # noqa: E402
    ATTACKS, CONFIRM_N, K, LIMIT, MIN_SMALL, SCREEN_LIMIT, growth, is_superlinear,
)

STOP_ABOVE = 2 * K * K  # measured again: up to quadratic growth and a little more


def candidates(args):
    if args.all:
        classes = [find_lexer_class(name) for name, *_ in get_all_lexers(plugins=False)]
        if args.resume_at:  # after an interrupted run
            classes = classes[[cls.__name__ for cls in classes].index(args.resume_at):]
    elif args.lexers:
        classes = [find_lexer_class_by_name(alias.strip()) for alias in args.lexers.split(",")]
    else:
        classes = list(SAFE_LEXERS.values())
    return list(dict.fromkeys(classes))  # each class once, in order


def survey(cls, args):
    """(first pass, measured again, error or None, CPU seconds spent) for a lexer."""
    start = time.thread_time()
    screened, confirmed = [], []
    try:
        lexer = cls(**OPTIONS)
        for attack in ATTACKS:
            screened.append(growth(lexer, attack, args.size, repeats=1, stop_above=SCREEN_LIMIT, floor=0.001,
                                   cap=args.cap))
        screened.sort(key=lambda m: (m.ratio, m.small if m.small != math.inf else 0), reverse=True)
        for suspect in (m for m in screened if m.ratio > SCREEN_LIMIT):
            measured = growth(lexer, suspect.attack, max(CONFIRM_N, 4 * args.size), min_small=MIN_SMALL,
                              cap=args.cap, retry_stopped=False)
            if is_superlinear(measured) and not args.all:  # measured again, up to quadratic growth, for the table
                again = growth(lexer, suspect.attack, measured.n, repeats=1, stop_above=STOP_ABOVE, cap=args.cap)
                measured = again if is_superlinear(again) else measured
            confirmed.append(measured)
            if is_superlinear(measured):
                break
    except Exception as error:  # a lexer that breaks on odd input: reported, not fatal
        return screened, confirmed, f"{type(error).__name__}: {error}"[:80], time.thread_time() - start
    return screened, confirmed, None, time.thread_time() - start


def cells(measured, suspects):
    if measured is None:
        return [f"{suspects:5}", f"{'-':34}", f"{'':6}", f"{'':9}", f"{'':10}", f"{'':7}"]
    return [f"{suspects:5}", f"{measured.attack[:34]:34}", f"{measured.n:6}", f"{measured.small_text()[:-3]:>9}",
            f"{measured.big_text().removesuffix(' ms'):>10}", f"{measured.ratio_text()[1:]:>7}"]


def cover(results):
    """Greedy: few inputs such that, on each superlinear lexer, one of them
    grew more than SCREEN_LIMIT-fold in the first pass."""
    needs = {}
    for cls, screened, worst in results:
        needs[cls] = {m.attack for m in screened if m.ratio > SCREEN_LIMIT} | {worst.attack}
    chosen = []
    while needs:
        best = max(ATTACKS, key=lambda a: (sum(a in s for s in needs.values()), -list(ATTACKS).index(a)))
        chosen.append((best, sum(best in s for s in needs.values())))
        needs = {cls: s for cls, s in needs.items() if best not in s}
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every lexer Pygments has")
    parser.add_argument("--lexers", help="comma-separated aliases, e.g. autoit,systemd,make,terraform,cfengine3")
    parser.add_argument("--size", type=int, default=1000, help="the small size n of the first pass (default 1000)")
    parser.add_argument("--cap", type=float, default=5.0, help="CPU seconds after which a run is stopped")
    parser.add_argument("--resume-at", metavar="CLASS", help="with --all: start at this lexer class, e.g. RagelLexer")
    parser.add_argument("--cover", action="store_true", help="print the inputs that catch every superlinear lexer")
    args = parser.parse_args()

    import pygments

    classes = candidates(args)
    print(f"Pygments {pygments.__version__}: {len(classes)} lexers, {len(ATTACKS)} inputs at n={args.size} and {K}n, "
          f"options {OPTIONS}.\nSuperlinear: more than {LIMIT}-fold from n >= {max(CONFIRM_N, 4 * args.size)} "
          f"(doubled until n costs {MIN_SMALL * 1e3:.0f} ms)\n")
    print(f"{'lexer':28} {'>12x':>5} {'worst input':34} {'n':>6} {'n (ms)':>9} {'8n (ms)':>10} {'ratio':>7} "
          f"{'verdict':12} survey CPU (s)")
    results, errors = [], []
    for cls in classes:
        screened, confirmed, error, spent = survey(cls, args)
        suspects = sum(m.ratio > SCREEN_LIMIT for m in screened)
        worst = next((m for m in confirmed if is_superlinear(m)), None)
        shown = worst or max(confirmed, key=lambda m: m.ratio, default=screened[0] if screened else None)
        verdict = "ERROR" if error else "SUPERLINEAR" if worst else "linear"
        print(f"{cls.__name__:28} " + " ".join(cells(shown, suspects)) + f" {verdict:12} {spent:.1f}"
              + (f"  {error}" if error else ""), flush=True)
        if worst:
            results.append((cls, screened, worst))
        if error:
            errors.append(cls)

    print(f"\n{len(results)} of {len(classes)} lexers superlinear; {len(errors)} raised errors"
          + (": " + ", ".join(cls.__name__ for cls in errors) if errors else "") + ".")
    if results:
        # Worst first: most CPU at 8n (runs stopped first, by their CPU at n).
        ranked = sorted(results, key=lambda r: (r[2].big == math.inf, r[2].big if r[2].big != math.inf else r[2].small), reverse=True)
        print("Superlinear, worst first:")
        for cls, _, worst in ranked:
            print(f"  {cls.__name__:28} {worst}")
    if args.cover and results:
        print("\nInputs that together catch every superlinear lexer (lexers newly caught):")
        for attack, caught in cover(results):
            print(f"    {attack!r},  # {caught}")


if __name__ == "__main__":
    main()
