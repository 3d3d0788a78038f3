"""Turning model and user text into safe HTML.

Nothing from the model or the user is trusted as HTML: streamed pieces are
escaped, and finished answers are rendered as markdown with raw HTML disabled
and then sanitised again with an allow-list (nh3), so a `<script>`, an
`onerror=` or a `javascript:` link can only ever show as text.
"""

import html

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}
# No <img>: a picture from the model would load a URL the model chose.
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}}


def escape_text(text):
    """Escape text for an HTML text node, keeping carriage returns and NULs.

    A raw CR would be turned into LF by the SSE line parser and a raw NUL is
    dropped by the HTML parser; as character references both survive both.
    """
    return html.escape(text, quote=True).replace("\r", "&#13;").replace("\0", "&#65533;")


def render_markdown(text):
    """Markdown to sanitised HTML."""
    rendered = _markdown.render(text)
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
