"""No attribute value in rendered markdown holds a raw `<`.

htmx 4 rewrites `<hx-` anywhere in a response's text, inside attribute
values too, so a model that wrote a link title or URL with `<hx-partial ...`
could smuggle htmx markup through an attribute. The sanitiser escapes `<` in
attributes (an older one did not): this keeps it so.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.rendering.markdown import render_markdown, split_for_streaming

NASTY = ["<hx-partial hx-target=\"body\">", "<hx-get>", "<", "\"", "'", ">", "&lt;", "`", "\\", " ", "x"]


def raw_lt_in_attribute(markup):
    """The first quoted attribute value that holds a raw `<`, or None."""
    state, start = "text", 0
    for i, char in enumerate(markup):
        if state == "text":
            if char == "<" and markup[i + 1:i + 2].isalpha():
                state = "tag"
        elif state == "tag":
            if char in "\"'":
                state, quote, start = "value", char, i
            elif char == ">":
                state = "text"
        elif char == quote:
            state = "tag"
        elif char == "<":
            return markup[start:i + 20]
    return None


def test_the_checker_finds_a_raw_lt():
    assert raw_lt_in_attribute('<a title="x<hx-get">y</a>')
    assert raw_lt_in_attribute('<a title="x&lt;hx-get">y</a> <b>') is None


pieces = st.lists(st.sampled_from(NASTY), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(title=pieces, url=pieces, lang=pieces, text=pieces)
def test_links_titles_and_code_info_strings_keep_lt_escaped(title, url, lang, text):
    sources = [
        f'[{text}](http://e.example/{url} "{title}")',
        f"[{text}]({url})",
        f"<http://e.example/{url}>",
        f"[{text}][r]\n\n[r]: /{url} '{title}'",
        f"```{lang}\n{text}\n```",
        f"| {text} | {title} |\n|---|---|\n| {url} | x |",
        f"![{text}]({url} \"{title}\")",
    ]
    for source in sources:
        for markup in (render_markdown(source), split_for_streaming(source + "\n\n").blocks):
            assert raw_lt_in_attribute(str(markup)) is None, (source, markup)
