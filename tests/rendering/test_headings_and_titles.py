"""A model's headings sit under the page's own <h1> (the conversation's
title), and a conversation's title shows a first message's words, not its
markdown."""

import pytest

from app.rendering.markdown import render_markdown
from app.storage.queries import title_from


def test_a_models_headings_start_at_h2():
    html = render_markdown("# Plan\n\n## Steps\n\n###### Fine print")
    assert html == "<h2>Plan</h2>\n<h3>Steps</h3>\n<h6>Fine print</h6>\n"


@pytest.mark.parametrize("message, title", [
    ("# Plan for **Q3**", "Plan for Q3"),
    ("> a `quoted` question", "a quoted question"),
    ("See [the docs](https://example.com/x) please", "See the docs please"),
    ("- one\n- two", "one two"),
    ("1. first\n2. second", "first second"),
    ("__bold__ and ~~gone~~", "bold and gone"),
    ("****", "****"),  # nothing but marks: kept as typed rather than an empty title
    ("plain words", "plain words"),
])
def test_titles_are_the_words_without_their_markdown(message, title):
    assert title_from(message) == title


def test_a_long_title_is_cut_with_an_ellipsis():
    assert title_from("**" + "word " * 30 + "**") == ("word " * 12).strip() + "…"
