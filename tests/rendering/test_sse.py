"""SSE framing and text escaping, without a server."""

import pytest

from app.rendering.markdown import escape_text, render_markdown
from app.rendering.sse import frame_comment, frame_event
from tests.sse_client import decode_events


@pytest.mark.parametrize(
    "data",
    ["plain", "two\nlines", "windows\r\nlines", "old mac\rlines", "trailing\n", "\n\nleading",
     "ünïcödé ✓ 日本語 🙂", "<b>html</b> & \"quotes\"", ""],
)
def test_a_standard_client_reads_back_the_data(data):
    decoded = decode_events(frame_event(data))
    expected = data.replace("\r\n", "\n").replace("\r", "\n")
    assert decoded == [{"event": "message", "data": expected, "id": None}]


def test_named_events_and_ids_are_framed():
    framed = frame_event("x", event="done", event_id=7)
    assert framed == "event: done\nid: 7\ndata: x\n\n"
    assert decode_events(framed) == [{"event": "done", "data": "x", "id": "7"}]


def test_a_newline_cannot_smuggle_a_field_into_the_event_name():
    with pytest.raises(ValueError):
        frame_event("x", event="done\ndata: evil")


def test_comments_are_ignored_by_clients():
    assert frame_comment("ping") == ": ping\n\n"
    assert decode_events(frame_comment("ping") + frame_event("after")) == [
        {"event": "message", "data": "after", "id": None}
    ]


def test_escaped_text_keeps_carriage_returns_and_nul_through_sse():
    text = "a\r\nb\rc\0d<script>"
    framed = frame_event(escape_text(text))
    assert decode_events(framed)[0]["data"] == "a&#13;\nb&#13;c&#65533;d&lt;script&gt;"


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    )
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
