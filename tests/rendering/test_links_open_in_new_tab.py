"""Links in answers open in a new tab, and the new tab cannot reach back to
the conversation's (rel="noopener noreferrer"): the sanitiser adds both, to
links the model wrote and to bare URLs alike, and answers stored before
(rendered without target) get it when shown."""

import re

from app.rendering.markdown import answer_html, render_markdown

ANCHOR = re.compile(r"<a [^>]*>")


def anchors(markup):
    return ANCHOR.findall(str(markup))


def test_every_link_in_an_answer_opens_in_a_new_tab_without_a_way_back():
    markup = render_markdown('See [the docs](https://example.com/docs "Docs"), <https://example.org> and '
                             "[mail](mailto:a@example.com).\n\n- [in a list](http://example.net)")
    links = anchors(markup)
    assert len(links) == 4
    for link in links:
        assert 'target="_blank"' in link
        assert re.search(r'rel="[^"]*\bnoopener\b[^"]*\bnoreferrer\b', link), link


def test_a_model_cannot_choose_its_own_target_or_rel():
    # Raw HTML is off: the model's own <a target=...> stays text.
    markup = str(render_markdown('<a href="https://evil.example" target="_self" rel="opener">x</a>'))
    assert anchors(markup) == []
    assert "&lt;a href" in markup


def test_an_answer_stored_before_links_opened_in_new_tabs_gets_them_when_shown():
    class Stored:
        rendered = ('<p><a href="https://example.com" rel="noopener noreferrer nofollow">a</a> '
                    '<a href="https://example.org" title="t" rel="noopener noreferrer nofollow">b</a></p>')
        content, sources = "", None

    links = anchors(answer_html(Stored()))
    assert links == [
        '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">',
        '<a href="https://example.org" title="t" target="_blank" rel="noopener noreferrer nofollow">',
    ]
