"""LaTeX formulas become MathML on the server, bounded, never inside code,
never from prices; what cannot be converted stays as its escaped source."""

import re

from app.rendering import math as math_rendering
from app.rendering.markdown import render_answer, render_markdown
from app.rendering.math import ANSWER_MATHML_MAX_CHARS, BRACES_MAX_DEPTH, FORMULA_MAX_CHARS

ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)


def formulas(html):
    return ANNOTATION.findall(html)


def test_every_delimiter_becomes_mathml_with_its_source_kept():
    html = render_markdown(r"Euler $e^{i\pi} + 1 = 0$, then \(a_1 + b_1\), and $$\int_0^1 x^2\,dx$$ or \[\sum_i x_i\]")
    assert formulas(html) == [r"e^{i\pi} + 1 = 0", "a_1 + b_1", r"\int_0^1 x^2\,dx", r"\sum_i x_i"]
    assert html.count('<math display="inline">') == 2 and html.count('<math display="block">') == 2
    assert "<msup><mi>e</mi>" in html and "<em>" not in html  # a_1 ... b_1 is not emphasis


def test_finished_answers_are_stored_with_their_math():
    assert formulas(render_answer("The area is $\\pi r^2$.")) == [r"\pi r^2"]


def test_prices_and_lone_dollars_stay_text():
    for text in ["It costs $5 and $10 today.", "Pay $5 or 10 $ later", "a $ b $ c", "$$ $$", "\\$x$ escaped"]:
        html = render_markdown(text)
        assert "<math" not in html, text


def test_math_is_never_read_inside_code():
    html = render_markdown("Use `$x$` and `\\(y\\)`:\n\n```\n$$z$$\n```\n\n    $w$\n")
    assert "<math" not in html and "$x$" in html and "$$z$$" in html and "$w$" in html


def test_what_does_not_convert_stays_as_escaped_source():
    html = render_markdown(r"Broken $\frac{$ and $\text{<img src=x onerror=alert(1)>}$ here")
    assert "<math" not in html and "<img" not in html
    assert r"$\frac{$" in html and r"$\text{&lt;img src=x onerror=alert(1)&gt;}$" in html


def test_a_formula_nested_too_deep_stays_source():
    deep = "{" * (BRACES_MAX_DEPTH + 1) + "x" + "}" * (BRACES_MAX_DEPTH + 1)
    assert "<math" not in render_markdown(f"${deep}$")
    shallow = "{" * BRACES_MAX_DEPTH + "x" + "}" * BRACES_MAX_DEPTH
    assert "<math" in render_markdown(f"${shallow}$")


def test_the_closing_delimiter_is_looked_for_only_within_the_formula_cap(monkeypatch):
    # 20,000 openers that never close: each looks no further than the cap,
    # so the work is linear in the text, not quadratic.
    windows = []
    real = math_rendering._closing_dollar
    monkeypatch.setattr(math_rendering, "_closing_dollar", lambda src, start, end: windows.append(end - start) or real(src, start, end))
    html = render_markdown("$a " * 20_000)
    assert "<math" not in html and len(windows) == 20_000
    assert max(windows) <= FORMULA_MAX_CHARS + 1
    long_formula = "x" * (FORMULA_MAX_CHARS + 1)
    assert "<math" not in render_markdown(f"${long_formula}$")


def test_an_answers_mathml_is_bounded_by_its_text():
    # x*1000 converts to ~10 KB of MathML: past the answer's allowance the
    # formulas stay as source.
    text = " ".join(f"${'x' * 1000}$" for _ in range(100))
    html = render_markdown(text)
    assert 0 < len(formulas(html)) < 100
    assert len(html) <= 1.2 * len(text) + ANSWER_MATHML_MAX_CHARS


def test_the_sanitiser_lets_through_mathml_and_nothing_new():
    html = render_markdown('$\\color{red}{x}$ <math><mi onclick="alert(1)">x</mi></math>')
    assert 'mathcolor="red"' in html
    assert "&lt;math&gt;" in html and "<mi onclick" not in html  # typed MathML is text
