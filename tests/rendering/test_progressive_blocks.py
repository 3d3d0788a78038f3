"""The no-script frame (app/rendering/progressive.py) formats each markdown
block once it is finished and shows only the block being written as plain
text, starting where the page's own plain tail starts."""

import re

from hypothesis import given
from hypothesis import strategies as st

from app.answers.reply_pipeline import Finished, Heartbeat, Piece
from app.rendering.markdown import BlockSplitter, render_markdown, split_for_streaming
from app.rendering.progressive import progressive_document

HEAD = "<head>"


def shown(html):
    """What a person sees of a document written so far: every `.tail` that
    something follows is hidden by the style sheet (`.tail:has(+ *)`)."""
    html = html.removeprefix(HEAD)
    return re.sub(r'<div class="text tail">[^<]*</div>(?=<)', "", html)


def written_after(*pieces):
    parts = list(progressive_document(HEAD, iter([Piece(p) for p in pieces] + [Heartbeat()]), "/c/1"))
    return "".join(parts)


def test_a_finished_block_is_shown_formatted_and_the_one_being_written_plain():
    html = written_after("**Bold** first", " block.\n", "\nSecond *bl")
    assert shown(html) == ('<div class="markdown" id="answer-text">'
                           + render_markdown("**Bold** first block.")
                           + '<div class="text tail">Second *bl<!-- -->')


def test_the_end_renders_the_last_block_and_links_to_the_conversation():
    events = [Piece("# Title\n\nA *short* answer.")]
    html = "".join(progressive_document(HEAD, iter([*events, Finished("", "complete")]), "/c/1"))
    body = shown(html)
    assert body.startswith('<div class="markdown" id="answer-text">' + render_markdown("# Title")
                           + render_markdown("A *short* answer.") + "</div>")
    assert "**" not in body and "The answer is finished." in body


def test_model_text_in_the_plain_tail_is_escaped():
    assert "<img" not in written_after("<img src=x onerror=alert(1)>")


@given(st.text(alphabet="ab*`~\n #-", max_size=60))
def test_the_tail_starts_at_a_block_boundary_so_the_frame_holds_whole_blocks(text):
    """Splitting at tail_start and reading the two halves with fresh
    splitters gives the blocks and tail of reading it whole."""
    start = split_for_streaming(text).tail_start
    before, after, whole = BlockSplitter(), BlockSplitter(), BlockSplitter()
    assert before.feed(text[:start]) + after.feed(text[start:]) == whole.feed(text)
    assert after.tail == whole.tail == text[start:]
