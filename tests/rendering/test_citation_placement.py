"""Citation marks go between the rendered answer's text, never into its markup.

Gemini says where a supported segment ends as a byte offset of the answer's
markdown, and that offset may fall anywhere: inside a link's title or URL, a
code span, a code fence's info string, an entity like `&amp;`, a table's
delimiter row. Whatever the offset, the answer must render as it would
without citations (same elements, same attributes, same text), with the
mark added between text, outside links and code, and nothing from the model
may become HTML.
"""

from html.parser import HTMLParser

import pytest

from app.providers.grounding import Grounding, Source, Support
from app.rendering.markdown import render_answer

ANSWER = """# Zürich &amp; the *Limmat*

Zürich is big.[^1] See [the city's page](https://example.org/z?a=1&b=2 "The \\"city\\" & <b>its</b> river")
and <https://example.net/auto?x=1&y=2> or `a < b && c` &copy; &#60;b&#62; &lt;i&gt; 5 < 6 & 7.

```sh title="<b>x</b>" {linenos=1}
echo "a" < b && c &amp; 'd'
```

```json
{"a": "<b>&amp;</b>", "n": [1, 2.5, true]}
```

| **Name** | `code` | Link |
|:---|---:|---|
| *it* &amp; ~~del~~ | `x\\|y` | [t](https://example.com "ti\\|tle") |

> Quoted **bold *nested* text**, a\\*b and a_b_c.

1. one
2. two `2`

   ~~~
   indented fence
   ~~~

Ende.
"""

SOURCE = Source("https://example.org/source?a=1&b=2", 'A "source" & <b>title</b>', "example.org")


class Tree(HTMLParser):
    """Markup as a nested (tag, attributes, children) tree; raises on a tag
    closed out of order, one never closed, or a bare `<`/`&` in text."""

    VOID = {"br", "hr"}

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.root = ("#root", (), [])
        self.stack = [self.root]
        self.feed(markup)
        self.close()
        assert len(self.stack) == 1, f"unclosed: {[tag for tag, _, _ in self.stack[1:]]}"

    def handle_starttag(self, tag, attrs):
        node = (tag, tuple(attrs), [])
        self.stack[-1][2].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        assert self.stack[-1][0] == tag, f"</{tag}> closes <{self.stack[-1][0]}>"
        self.stack.pop()

    def handle_data(self, data):
        children = self.stack[-1][2]
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def without_citations(node):
    """The tree with every <sup class="citations"> taken out (text around it joined)."""
    tag, attrs, children = node
    kept = []
    for child in children:
        if isinstance(child, tuple) and child[0] == "sup" and ("class", "citations") in child[1]:
            continue
        child = without_citations(child) if isinstance(child, tuple) else child
        if isinstance(child, str) and kept and isinstance(kept[-1], str):
            kept[-1] += child
        else:
            kept.append(child)
    return (tag, attrs, kept)


def citations_with_ancestors(node, ancestors=()):
    tag, attrs, children = node
    if tag == "sup" and ("class", "citations") in attrs:
        yield node, ancestors
        return
    for child in children:
        if isinstance(child, tuple):
            yield from citations_with_ancestors(child, ancestors + (tag,))


def tags_of(node):
    tag, _attrs, children = node
    yield tag
    for child in children:
        if isinstance(child, tuple):
            yield from tags_of(child)


PLAIN = render_answer(ANSWER)
PLAIN_TREE = Tree(PLAIN).root
ANSWER_BYTES = len(ANSWER.encode("utf-8"))


def test_the_answer_holds_the_markup_it_is_meant_to_test():
    tags = set(tags_of(PLAIN_TREE))
    assert {"a", "code", "pre", "table", "td", "em", "strong", "blockquote", "span", "ol", "h2"} <= tags
    assert 'title="The &quot;city&quot; &amp; &lt;b&gt;its&lt;/b&gt; river"' in PLAIN
    assert 'class="language-sh"' in PLAIN and 'class="language-json"' in PLAIN


@pytest.mark.parametrize("end_byte", range(1, ANSWER_BYTES + 1))
def test_a_segment_ending_anywhere_adds_one_mark_between_text_and_changes_nothing_else(end_byte):
    grounding = Grounding((SOURCE,), (Support(end_byte, (0,)),))
    cited = render_answer(ANSWER, grounding)

    tree = Tree(cited).root
    assert without_citations(tree) == PLAIN_TREE, "the answer renders as it does without citations"
    marks = list(citations_with_ancestors(tree))
    assert len(marks) == 1, cited
    (sup, ancestors), = marks
    assert not {"a", "code", "pre", "button", "table", "thead", "tbody", "tr", "ul", "ol"} & {ancestors[-1]}, ancestors
    assert not {"a", "code", "pre", "button"} & set(ancestors), ancestors
    assert sup[2] == [("a", (("class", "citation"), ("href", SOURCE.uri), ("target", "_blank"),
                             ("rel", "noopener noreferrer nofollow"),
                             ("aria-label", f"Source 1: {SOURCE.title}"), ("title", f"Source 1: {SOURCE.title}")),
                       ["1"])]
    # The model's markup and the source's title are text, not tags.
    assert set(tags_of(tree)) == set(tags_of(PLAIN_TREE)) | {"sup"}


def test_a_mark_goes_after_the_sentence_it_supports():
    text = "Zürich ist groß. Der Fluss heißt **Limmat**. Ende."
    ends = [len(text[:text.index(sentence) + len(sentence)].encode()) for sentence in ("groß.", "**Limmat**.")]
    cited = render_answer(text, Grounding((SOURCE,), tuple(Support(end, (0,)) for end in ends)))
    mark = cited[cited.index("<sup"):cited.index("</sup>") + 6]
    assert cited == f"<p>Zürich ist groß.{mark} Der Fluss heißt <strong>Limmat</strong>.{mark} Ende.</p>\n"


def test_a_segment_ending_in_a_link_or_code_is_cited_after_it():
    text = "See [the page](https://example.org/p \"A title\") and `some code` here.\n\n```sh\nls\n```\n"
    in_title = len(text[:text.index("title")].encode())
    in_code = len(text[:text.index("code`")].encode())
    in_block = len(text[:text.index("ls") + 1].encode())
    cited = render_answer(text, Grounding((SOURCE,), tuple(Support(end, (0,)) for end in (in_title, in_code, in_block))))
    assert "</a><sup" in cited and "</code><sup" in cited and "</pre></div><sup" in cited, cited


def test_a_segment_ending_in_a_formula_is_cited_after_it():
    # A <sup> inside <math> would end the formula in the browser's parser
    # (HTML elements break out of MathML): the mark goes after it.
    text = "The area is $\\pi r^2$ here, and $$\\frac{a}{b}$$ too."
    ends = [len(text[:text.index(inside)].encode()) for inside in ("r^2", "{b}")]
    cited = render_answer(text, Grounding((SOURCE,), tuple(Support(end, (0,)) for end in ends)))
    assert "</math><sup" in cited, cited
    math_parts = [part.split("</math>")[0] for part in cited.split("<math")[1:]]
    assert all("<sup" not in part for part in math_parts)
