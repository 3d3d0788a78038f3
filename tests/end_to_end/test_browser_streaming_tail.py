"""The unfinished end of an answer, formatted in the browser while it streams
(static/streaming_tail.js), in a real headless Chromium.

The server renders finished blocks and appends the block being written as
escaped text; the script shows that text as the final answer will look. Here a
model writes a paragraph with soft line breaks, **bold**, a list and an open
code fence, then waits until the test lets it finish: mid-answer, after a
reload mid-answer, and at the end the page is checked for what a person sees.
The script alone is also held to the server's markdown rendering, to its
plain-text fallback for a very long tail, and to one render per frame.
"""

import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.providers.text_stream import TextStreamingChatModel
from app.rendering.markdown import render_markdown
from tests.end_to_end.conftest import ARTIFACTS, send, watched_page

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "streaming_tail.js"
ATTACK = "<img src=x onerror=alert(1)>"
FINISHED_BLOCK = "A first block, finished before the pause."
WRITTEN = f"""{FINISHED_BLOCK}

A paragraph that breaks
softly across lines, with **bold** and *care*
and `inline code`, and {ATTACK} as text:
- apples
- pears, **ripe**
```python
print("{ATTACK}")
for fruit in basket:
"""
REST = """    eat(fruit)
```

The end."""


class PausingModel(TextStreamingChatModel):
    """Writes `before` in pieces, waits for `resume`, then writes `after`."""

    before: str
    after: str
    resume: threading.Event = None

    def model_post_init(self, _context):
        self.resume = threading.Event()

    @property
    def _llm_type(self):
        return "pausing"

    def stream_text(self, messages, stop=None):
        for start in range(0, len(self.before), 7):
            yield self.before[start:start + 7]
        self.resume.wait(timeout=60)
        yield self.after


@pytest.fixture
def served(tmp_path):
    """The app on a pausing model, served in this process: (base URL, model)."""
    model = PausingModel(before=WRITTEN, after=REST)
    app = create_app({
        "provider": "fake", "database_url": f"sqlite:///{tmp_path}/chat.sqlite3", "checkpoint_seconds": 0.1,
        "rate_messages_per_minute": 0, "rate_max_streams": 0, "rate_address_messages_per_minute": 0,
        "rate_address_max_streams": 0, "rate_new_owners_per_hour": 0,
        "rate_limit_file": str(tmp_path / "rate-limits.sqlite3"),
    }, chat_model=model)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", model
    finally:
        model.resume.set()
        server.shutdown()
        assert app.extensions["answer_tasks"].wait(timeout=30)
        app.extensions["answer_notices"].close()


def paused_view(page):
    """The streaming answer's formatted tail, once it shows all that was written before the pause."""
    answer = page.locator(".message.assistant.outcome-streaming")
    view = answer.locator(".streaming-tail")
    expect(view.locator("pre code")).to_contain_text("for fruit in basket:")
    return answer, view


def test_the_unfinished_block_reads_as_the_final_answer_will(browser, served):
    base, model = served
    with watched_page(browser, base + "/") as watched:
        page = watched.page
        send(page, "Plan the fruit")
        answer, view = paused_view(page)

        # What the server finished is rendered once, by the server.
        expect(answer.locator(".markdown[id$='-blocks'] p")).to_have_text(FINISHED_BLOCK)
        # The rest is formatted as markdown renders it: a paragraph whose
        # soft line breaks are joined, emphasis, code, a list, a code block.
        paragraph = view.locator("p")
        expect(paragraph).to_have_count(1)
        assert paragraph.inner_text().startswith("A paragraph that breaks softly across lines, with bold and care")
        expect(paragraph.locator("strong")).to_have_text("bold")
        expect(paragraph.locator("em")).to_have_text("care")
        expect(paragraph.locator("code")).to_have_text("inline code")
        expect(view.locator("ul > li")).to_have_text(["apples", "pears, ripe"])
        expect(view.locator("li strong")).to_have_text("ripe")
        code = view.locator(".code-block pre.highlight code.language-python")
        expect(code).to_have_text(f'print("{ATTACK}")\nfor fruit in basket:\n')
        assert "monospace" in code.evaluate("c => getComputedStyle(c).fontFamily")
        # No markdown markers left, and the model's HTML is text, not markup.
        shown = answer.inner_text()
        assert "**" not in shown and "- apples" not in shown and "```" not in shown
        assert shown.count(ATTACK) == 2 and answer.locator("img").count() == 0
        # The raw text is the source, out of sight and out of the accessibility tree.
        raw = answer.locator(".text[id$='-text']")
        expect(raw).to_be_hidden()
        assert "for fruit in basket:" in raw.text_content()
        assert shown.count("apples") == 1, "the tail is shown once"
        mid_stream = {"paragraph": paragraph.inner_text(), "items": view.locator("li").all_inner_texts()}
        before_reload = view.inner_html()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "streaming-tail.png"))

        # A reload mid-answer shows the same.
        page.reload()
        _answer, view = paused_view(page)
        assert view.inner_html() == before_reload

        model.resume.set()
        final = page.locator(".message.assistant.outcome-complete")
        expect(final.locator(".markdown p").last).to_have_text("The end.")
        markdown = final.locator(".markdown")
        assert markdown.locator("p").nth(1).inner_text() == mid_stream["paragraph"], "the paragraph did not change"
        assert markdown.locator("li").all_inner_texts() == mid_stream["items"]
        expect(markdown.locator("pre code")).to_have_text(f'print("{ATTACK}")\nfor fruit in basket:\n    eat(fruit)\n')
        # Nothing of the streaming view is left.
        expect(page.locator(".streaming-tail")).to_have_count(0)
        expect(final.locator(".text")).to_have_count(0)
        assert page.locator("img").count() == 0
        assert final.inner_text().count(ATTACK) == 2 and "**" not in final.inner_text()


# ---- the script alone, on a page of its own ------------------------------------

BUBBLE = ('<article class="message assistant outcome-streaming"><div class="markdown" id="m-1-blocks"></div>'
          '<div class="text" id="m-1-text"></div></article>')

# Blocks as a model writes them, each as one unfinished tail.
SAMPLES = [
    "Some **bold**, *em*, ***both***, __strong__, _em_ and `code`, a\nsoft break and a hard one  \nhere.",
    "- one\n  - nested *deeper*\n- two **b**",
    "3. three\n4. four",
    "1) one\n2) two",
    "# A heading\nfollowed by text",
    "## Closed heading ##",
    "```ruby\ndef greet(name)\n  \"hello #{name}\"\nend\n```",
    "| Language | Highlighted |\n|---|:-:|\n| Ruby | **yes** |\n| Bash |",
    "> A quotation\n> with `code`",
    "A [link](https://example.com/docs) and [another](javascript:alert(1)), ~~struck~~.",
    "A paragraph\n- and a list that interrupts it",
    "intro\n1. one\n2. two",
    "Heading by underline\n---",
    "snake_case_word, 2 * 3 * 4, a*b*c, `` a ` b ``, \\*not em\\*",
    f"{ATTACK} & <b>bold?</b> <script>alert(2)</script>",
    "- item\nlazy continuation",
    "    indented code\n    more",
]


def normalised(html):
    """HTML without the whitespace around blocks and line breaks that a browser does not show."""
    html = re.sub(r"\s*(<br>|</?(?:ul|ol|li|p|pre|div|table|thead|tbody|tr|th|td|blockquote|h\d)\b[^>]*>)\s*", r"\1", html)
    html = re.sub(r"\s+", " ", html.strip()).replace(' rel="noopener noreferrer nofollow"', "")
    return re.sub(r'<button class="copy-button" type="button"', '<button type="button" class="copy-button"', html)


@pytest.fixture
def bubble(browser):
    """A page with one streaming bubble and the script: (page, errors)."""
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content(BUBBLE)
    page.evaluate("""() => {
      window.frames_asked = 0;
      const ask = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (callback) => { window.frames_asked++; return ask(callback); };
    }""")
    page.add_script_tag(path=str(SCRIPT))
    yield page, errors
    page.close()
    assert errors == []


def show_tail(page, text):
    """Replace the bubble's raw tail with `text`, as the stream does between blocks; the formatted HTML."""
    return page.evaluate("""async (text) => {
      document.getElementById('m-1-text').textContent = text;
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      return document.querySelector('.streaming-tail').innerHTML;
    }""", text)


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_tail_is_rendered_as_the_server_renders_the_finished_block(bubble, sample):
    page, _errors = bubble
    assert normalised(show_tail(page, sample + "\n")) == normalised(render_markdown(sample))
    assert page.locator(".streaming-tail :is(img, script, b)").count() == 0, "model text never becomes HTML"


def test_a_burst_of_pieces_costs_one_render_and_a_huge_tail_is_plain_text(bubble):
    page, _errors = bubble
    asked = page.evaluate("""async () => {
      const raw = document.getElementById('m-1-text'), before = window.frames_asked;
      for (let i = 0; i < 300; i++) raw.append(i % 50 === 49 ? '**word**\\n' : 'word ');
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      return window.frames_asked - before - 1;
    }""")
    assert asked == 1, "300 pieces in one task are rendered in one frame"
    assert page.locator(".streaming-tail strong").count() == 6
    page.evaluate("() => document.getElementById('m-1-text').append('x **y** '.repeat(15000))")
    expect(page.locator("#m-1-text")).to_be_visible()
    expect(page.locator(".streaming-tail")).to_be_hidden()
    show_tail(page, "short **again**")
    expect(page.locator(".streaming-tail strong")).to_have_text("again")
    expect(page.locator("#m-1-text")).to_be_hidden()


def test_a_block_the_tail_cannot_show_as_the_server_will_is_plain_text_until_it_can(bubble):
    """A formula is MathML only the server makes (and an entity, a link
    definition, an image...): the block is shown as the text it is, not
    formatted around dollar signs the final answer will not show."""
    page, _errors = bubble
    raw, view = page.locator("#m-1-text"), page.locator(".streaming-tail")
    show_tail(page, "The area is $\\pi r^2$, **not** more.\n")
    expect(raw).to_be_visible()
    expect(view).to_be_hidden()
    assert raw.text_content() == "The area is $\\pi r^2$, **not** more.\n"
    show_tail(page, "The next block, **bold** again.\n")
    expect(view.locator("p strong")).to_have_text("bold")
    expect(raw).to_be_hidden()


def test_only_the_line_being_written_is_read_ahead(bubble):
    """While a line is written, an opened ** shows as bold (its closing
    marker is most likely on its way); once the line has ended without one,
    the block shows the ** as the server's rendering will."""
    page, _errors = bubble
    show_tail(page, "An opened **bold")
    expect(page.locator(".streaming-tail p strong")).to_have_text("bold")
    show_tail(page, "An opened **bold\n")
    expect(page.locator(".streaming-tail p")).to_have_text("An opened **bold")
    expect(page.locator(".streaming-tail strong")).to_have_count(0)
