"""LaTeX in answers ($...$, $$...$$, \\(...\\), \\[...\\]) as MathML, made on
the server: no script, and every browser renders MathML.

A markdown-it inline rule finds the formulas before markdown's escapes and
emphasis touch them (so `a_1 + b_1` stays a formula, not emphasis), never
inside code (code spans and blocks are not parsed inline). A single `$`
opens a formula only when a non-space follows it, and closes one only when
a non-space precedes it and no digit follows, so "$5 and $10" stays text.

Bounded like highlighting: the closing delimiter is looked for only within
FORMULA_MAX_CHARS (the rule's work is linear in the text), a formula nested
deeper than BRACES_MAX_DEPTH, or whose MathML would be more than
HTML_MAX_RATIO times its source, or would take the answer's MathML past
ANSWER_MATHML_MAX_CHARS, stays as its escaped source; so does one
latex2mathml cannot convert. The source is kept in the MathML
(`<annotation encoding="application/x-tex">`), which browsers do not show.
"""

import html
import re

from latex2mathml.converter import convert

FORMULA_MAX_CHARS = 2000
BRACES_MAX_DEPTH = 40
HTML_MAX_RATIO = 40
FORMULA_HTML_SLACK = 1000
ANSWER_MATHML_MAX_CHARS = 200_000

# What latex2mathml writes, and nothing else, passes the sanitiser.
MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup",
    "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr",
    "mstyle", "menclose", "mpadded", "mphantom", "merror",
}
_MATHML_ATTRIBUTES = {
    "display", "mathvariant", "mathcolor", "mathbackground", "mathsize", "stretchy", "fence", "separator",
    "lspace", "rspace", "width", "height", "depth", "columnalign", "columnspacing", "columnlines", "rowspacing",
    "rowlines", "frame", "displaystyle", "scriptlevel", "accent", "accentunder", "linethickness",
    "movablelimits", "minsize", "maxsize", "symmetric", "largeop", "form", "notation", "encoding",
}
MATHML_ATTRIBUTES = {tag: _MATHML_ATTRIBUTES for tag in MATHML_TAGS}

# (opening, closing, display): tried in this order at a "$" or a "\".
_DELIMITERS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False), ("$", "$", False))
_TAG = re.compile(r"</?([A-Za-z][\w:-]*)")


def _closing_dollar(src, start, end):
    """Where the single `$` that closes a formula starting at `start` is, or -1."""
    at = src.find("$", start, end)
    while at != -1:
        if not src[at - 1].isspace() and src[at - 1] != "\\" and not src[at + 1:at + 2].isdigit():
            return at
        at = src.find("$", at + 1, end)
    return -1


def _formula_rule(state, silent):
    src, pos = state.src, state.pos
    if src[pos] not in "$\\":
        return False
    for opening, closing, display in _DELIMITERS:
        if not src.startswith(opening, pos):
            continue
        start = pos + len(opening)
        end = min(state.posMax, start + FORMULA_MAX_CHARS + len(closing))
        if opening == "$":
            if start >= state.posMax or src[start].isspace() or src[start] == "$":
                return False
            at = _closing_dollar(src, start, end)
        else:
            at = src.find(closing, start, end)
        if at == -1 or not src[start:at].strip():
            return False
        if not silent:
            token = state.push("math", "math", 0)
            token.content, token.markup, token.info = src[start:at], opening, closing
            token.meta = {"display": display}
        state.pos = at + len(closing)
        return True
    return False


def _depth(latex):
    depth = deepest = 0
    for char in latex:
        if char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "}":
            depth -= 1
    return deepest


def formula_html(latex, display, env):
    """MathML for one formula, or "" (show its source) when it is over a
    bound or cannot be converted."""
    left = env.get("mathml_chars_left", ANSWER_MATHML_MAX_CHARS)
    if _depth(latex) > BRACES_MAX_DEPTH:
        return ""
    try:
        mathml = convert(latex, display="block" if display else "inline")
    except Exception:  # latex2mathml's errors (and RecursionError) are its own: show the source
        return ""
    # \text{<b>} comes out as a raw <b>: anything but MathML is refused here,
    # before the sanitiser would drop it.
    if any(tag not in MATHML_TAGS for tag in _TAG.findall(mathml)):
        return ""
    opening, inner = mathml.split(">", 1)
    inner = inner.removesuffix("</math>")
    annotation = f'<annotation encoding="application/x-tex">{html.escape(latex, quote=False)}</annotation>'
    result = f"{opening}><semantics><mrow>{inner}</mrow>{annotation}</semantics></math>"
    if len(result) > HTML_MAX_RATIO * len(latex) + FORMULA_HTML_SLACK or len(result) > left:
        return ""
    env["mathml_chars_left"] = left - len(result)
    return result


def _render_formula(_renderer, tokens, index, _options, env):
    token = tokens[index]
    mathml = formula_html(token.content, token.meta["display"], env)
    return mathml or html.escape(token.markup + token.content + token.info, quote=False)


def math_plugin(md):
    """Formulas as MathML in a markdown-it parser."""
    md.inline.ruler.before("escape", "math", _formula_rule)
    md.add_render_rule("math", _render_formula)
