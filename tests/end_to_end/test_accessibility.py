"""axe-core in a real headless Chromium against a real gunicorn (fake
provider): no serious or critical violation on the empty page (its
greeting), the keyboard shortcuts dialog, a finished
answer, the same conversation reloaded (its <details> open), every
highlighting token, an answer mid-stream, and the Share panel with the
shared conversation it links to; each in light and dark, on a desktop and
on a phone.

axe-core 4.14.1 (MPL-2.0, licence: vendor/axe-LICENSE.txt), vendored as
vendor/axe.min.js, unchanged, from the npm package:
    npm pack axe-core@4.14.1
    https://registry.npmjs.org/axe-core/-/axe-core-4.14.1.tgz
    tarball sha1 14d8a6f3f085afd126b8b5ca1e42e50e17fb1d99
    axe.min.js sha256 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c

axe is loaded with add_init_script, not add_script_tag: the page's CSP
(script-src 'self') refuses an inline <script>, and bypass_csp would test a
page production never serves. An init script goes in through the DevTools
protocol, which CSP does not govern, so the page runs exactly as served.
"""

import re
from pathlib import Path

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import Watched, send

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")

SCHEMES = ("light", "dark")
DEVICES = {
    "desktop": {"viewport": {"width": 1200, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 740}, "has_touch": True, "is_mobile": True},
}
CASES = [pytest.param(scheme, device, id=f"{scheme}-{device}") for scheme in SCHEMES for device in DEVICES]

# Every kind of block markdown gives, and code in two languages the app
# highlights (app/rendering/safe_lexers.py) with comments, keywords, strings,
# interpolation, escapes, a regex, symbols, numbers and an operator word
# (Operator.Word is the #aa22ff of the original report).
MARKDOWN = """# A heading

Some **bold**, *emphasis*, `inline code` and [a link](https://example.com/docs).

- one
- two
  1. nested

| Language | Highlighted |
|----------|-------------|
| Ruby     | yes         |

> A quotation, with `code` in it.

```ruby
# Greets, unless told not to.
class Greeter < Base
  def greet(name, quiet = false)
    return if quiet and not name
    puts "hello #{name}\\n" if name =~ /x\\d+/
    @count = 42 + 1.5
    :done
  end
end
```

```bash
#!/bin/bash
for f in *.txt; do echo "$f" && wc -l "$f"; done  # count lines
```

The end."""

# Mid-stream: the same blocks first, then a long paragraph still being
# written while axe runs (about half the answer's pieces).
STILL_WRITING = MARKDOWN.removesuffix("The end.") + "A last paragraph, still being written: " + "more words " * 60

# 60 pieces 80 ms apart: an answer streams for about 5 s, time enough to run
# axe while it is still streaming.
PACING = {"CHAT_FAKE_CHUNKS": "60", "CHAT_FAKE_CHUNK_MS": "80"}

# Token classes with no text to read: .hll is a highlighted line's background
# (never made: the app's HtmlFormatter has no hl_lines) and .w is whitespace.
TOKEN_CLASSES = """() => {
  const found = new Set();
  const walk = (rules) => {
    for (const rule of rules) {
      if (rule instanceof CSSMediaRule) {
        if (matchMedia(rule.conditionText).matches) walk(rule.cssRules);
      } else if (rule instanceof CSSStyleRule) {
        const match = /^\\.highlight \\.([\\w-]+)$/.exec(rule.selectorText);
        if (match && match[1] !== 'hll' && match[1] !== 'w') found.add(match[1]);
      }
    }
  };
  for (const sheet of document.styleSheets) walk(sheet.cssRules);
  return [...found].sort();
}"""

# A copy of the answer's first code block, holding one token of each class.
ADD_EVERY_TOKEN = """(classes) => {
  const block = document.querySelector('.message.assistant .code-block').cloneNode(true);
  block.id = 'every-token';
  const code = block.querySelector('code');
  code.replaceChildren();
  for (const name of classes) {
    const span = document.createElement('span');
    span.className = name;
    span.textContent = 'token_' + name;
    code.append(span, '\\n');
  }
  document.querySelector('.message.assistant .markdown').append(block);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("accessibility"), PACING) as (base, _log, _process):
        yield base


class Device:
    """One browser context (a colour scheme on a device), its page and, once
    made, a conversation with a finished answer."""

    def __init__(self, browser, base, scheme, device):
        self.base = base
        self.context = browser.new_context(color_scheme=scheme, **DEVICES[device])
        self.context.add_init_script(path=str(AXE))
        self.watched = Watched(self.context.new_page())
        self.page = self.watched.page
        self.conversation = None

    def new_chat(self):
        self.page.goto(self.base + "/")
        self.page.locator("#message").wait_for()

    def finished_answer(self):
        self.new_chat()
        send(self.page, MARKDOWN)
        # The finished answer is swapped in highlighted.
        answer = self.page.locator(".message.assistant.outcome-complete")
        answer.locator("pre.highlight .ow").first.wait_for()
        self.conversation = self.page.url
        return answer

    def reload_conversation(self):
        if self.conversation is None:
            self.finished_answer()
        self.page.goto(self.conversation)
        self.page.locator(".message.assistant.outcome-complete pre.highlight .ow").first.wait_for()


@pytest.fixture(scope="module")
def devices(browser, server):
    opened = {}

    def device(scheme, name):
        if (scheme, name) not in opened:
            opened[scheme, name] = Device(browser, server, scheme, name)
        return opened[scheme, name]

    yield device
    for each in opened.values():
        each.context.close()


def axe(page, include=None):
    """axe's violations on the page, or on the elements `include` selects."""
    return page.evaluate(
        "async (include) => (await axe.run(include || document, {resultTypes: ['violations']})).violations", include
    )


def assert_no_blocking(violations, where):
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    lines = []
    for violation in blocking:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}\n  {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = node.get("failureSummary", "").replace("\n", "\n      ")
            lines.append(f"  - {' '.join(map(str, node['target']))}\n      {summary}")
    assert not blocking, f"axe-core: {len(blocking)} serious/critical violation(s) {where}:\n" + "\n".join(lines)


@pytest.mark.parametrize("scheme, device", CASES)
def test_empty_page(devices, scheme, device):
    # A first visit: the greeting with its example prompts.
    d = devices(scheme, device)
    d.new_chat()
    d.page.locator(".greeting").wait_for()
    assert d.page.locator(".greeting .example-prompt").count() == 3
    assert_no_blocking(axe(d.page), "on the empty page with its greeting")


@pytest.mark.parametrize("scheme, device", CASES)
def test_keyboard_shortcuts_dialog(devices, scheme, device):
    d = devices(scheme, device)
    d.new_chat()
    d.page.locator(".new-chat").focus()
    d.page.keyboard.press("?")
    dialog = d.page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    assert_no_blocking(axe(d.page), "with the keyboard shortcuts dialog open")
    d.page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


@pytest.mark.parametrize("scheme, device", CASES)
def test_finished_answer(devices, scheme, device):
    d = devices(scheme, device)
    answer = d.finished_answer()
    for selector in ("h2", "ul", "ol", "a", "table", "blockquote", "pre.highlight .k", "pre.highlight .c1"):
        assert answer.locator(f".markdown {selector}").count(), f"the answer shows {selector}"
    assert_no_blocking(axe(d.page), "with a finished answer")


@pytest.mark.parametrize("scheme, device", CASES)
def test_finished_conversation_reloaded_with_its_details_open(devices, scheme, device):
    # The whole page as a reload serves it: the conversation in the sidebar,
    # Rename and Delete, and Edit, each opened to show its form.
    # (Opened in the DOM, not clicked: on a phone an open list of
    # conversations covers the summaries below it.)
    d = devices(scheme, device)
    d.reload_conversation()
    assert d.page.locator(".conversation-actions details, details.edit").count() == 4, "Rename, Share, Delete and Edit"
    d.page.evaluate("() => document.querySelectorAll('details').forEach((details) => { details.open = true; })")
    d.page.locator(".conversation-actions .danger").wait_for()
    d.page.locator("details.edit textarea").wait_for()
    assert_no_blocking(axe(d.page), "on the reloaded conversation, its <details> open")


@pytest.mark.parametrize("scheme, device", CASES)
def test_every_highlighting_token(devices, scheme, device):
    # An answer highlights only the tokens its languages have: one of each
    # class chat.css colours, in a copy of a real code block.
    d = devices(scheme, device)
    d.reload_conversation()
    classes = d.page.evaluate(TOKEN_CLASSES)
    assert len(classes) > 50, f"found the highlighting rules of chat.css: {classes}"
    d.page.evaluate(ADD_EVERY_TOKEN, classes)
    d.page.locator("#every-token pre.highlight .k").first.wait_for()
    assert_no_blocking(axe(d.page, "#every-token"), f"on the highlighting tokens ({scheme})")


@pytest.mark.parametrize("scheme, device", CASES)
def test_mid_stream(devices, scheme, device):
    d = devices(scheme, device)
    d.new_chat()
    send(d.page, STILL_WRITING)
    streaming = d.page.locator(".message.assistant.outcome-streaming")
    streaming.locator(".stop-button").wait_for(state="visible")
    # Every block rendered (both code blocks, unhighlighted while streaming)
    # and the last paragraph still coming.
    streaming.locator(".markdown .code-block").nth(1).wait_for()
    streaming.locator(".markdown table").wait_for()
    violations = axe(d.page)
    assert streaming.count() == 1 and streaming.locator(".stop-button").is_visible(), (
        "the answer finished while axe ran: slow the fake provider (PACING)"
    )
    d.page.keyboard.press("Escape")
    d.page.locator(".message.assistant.outcome-stopped").wait_for()
    assert_no_blocking(violations, "mid-stream")


@pytest.mark.parametrize("scheme, device", CASES)
def test_share_panel_and_shared_conversation(devices, scheme, device):
    # The Share panel as it opens on a new link (its Copy and Stop sharing),
    # then the link itself: the read-only page anyone with it reads.
    d = devices(scheme, device)
    d.reload_conversation()
    d.page.locator("details.share > summary").click()
    with d.page.expect_navigation(url=re.compile(r"shared=\d+")):  # the conversation again, styled (load)
        d.page.get_by_role("button", name=re.compile("Make (a|another) link")).click()
    link = d.page.locator("details.share[open] input.share-url").first
    assert_no_blocking(axe(d.page), "with the Share panel open on a link")
    d.page.goto(link.input_value())  # waits for its load, as expect_navigation does
    d.page.locator(".shared-conversation .message.assistant pre.highlight .ow").first.wait_for()
    assert_no_blocking(axe(d.page), "on a shared conversation")


# A control's border against the colours on both sides of it: its own
# background and what it sits on (WCAG 1.4.11, non-text contrast, 3:1).
BORDER_AND_BACKGROUNDS = """(selector) => {
  const control = document.querySelector(selector);
  const background = (element) => {
    for (; element; element = element.parentElement) {
      const colour = getComputedStyle(element).backgroundColor;
      if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  return [getComputedStyle(control).borderTopColor, background(control), background(control.parentElement)];
}"""


def relative_luminance(css_colour):
    channels = [int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first, second):
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("control", ["#message", "a.new-chat"])
def test_the_borders_of_controls_stand_out(devices, scheme, control):
    d = devices(scheme, "desktop")
    d.new_chat()
    border, inside, outside = d.page.evaluate(BORDER_AND_BACKGROUNDS, control)
    for background in (inside, outside):
        ratio = contrast(border, background)
        assert ratio >= 3, f"{control}'s border {border} on {background} in {scheme}: {ratio:.2f}:1"
