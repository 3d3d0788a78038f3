"""An answer with code, math and a table, as a person meets it in Chromium
(at 1280 px and at 375 px, light and dark): the Python block highlighted by
the highlighting process behind gunicorn's gevent worker, labelled with its
language and with its own Copy; the formulas rendered as MathML; and the
answer's Copy putting its markdown on the clipboard."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import ARTIFACTS, send, watched_page

TIMEOUT_MS = 30000
CODE = 'def greet(name: str) -> str:\n    return f"hello {name}"  # polite\n'
ANSWER = (
    "Here is the function:\n\n"
    f"```python\n{CODE}```\n\n"
    "Euler: $e^{i\\pi} + 1 = 0$, and it costs $5 and $10.\n\n"
    "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n"
    "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n"
    "- one\n- two"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CHAT_FAKE_CHUNKS": "10", "CHAT_FAKE_CHUNK_MS": "20"}
    with gunicorn(tmp_path_factory.mktemp("code-and-math"), env) as (base, _log, _process):
        yield base


def answered(page):
    page.wait_for_function(
        "() => document.querySelectorAll('.message.assistant').length === 1"
        " && !document.querySelector('.message.outcome-streaming')", timeout=TIMEOUT_MS)
    return page.locator(".message.assistant").last


@pytest.mark.parametrize("width,scheme", [(1280, "light"), (375, "dark")])
def test_a_python_block_is_highlighted_labelled_and_copied_and_math_is_rendered(browser, server, width, scheme):
    options = {"viewport": {"width": width, "height": 900}, "color_scheme": scheme,
               "permissions": ["clipboard-read", "clipboard-write"]}
    with watched_page(browser, server + "/", **options) as watched:
        page = watched.page
        send(page, ANSWER)
        answer = answered(page)

        block = answer.locator(".code-block")
        assert block.count() == 1
        assert block.locator(".code-language").inner_text() == "python"
        assert block.locator(".code-language").is_visible()
        # Pygments' tokens: `def` a keyword, `greet` a function name, the comment.
        assert block.locator("pre code span.k", has_text="def").count() == 1
        assert block.locator("pre code span.nf", has_text="greet").count() == 1
        assert block.locator("pre code span.c1").inner_text() == "# polite"
        colour = block.locator("pre code span.k").first.evaluate("e => getComputedStyle(e).color")
        plain = block.locator("pre code").evaluate("e => getComputedStyle(e).color")
        assert colour != plain

        block.locator(".copy-button").click()
        page.wait_for_function("code => navigator.clipboard.readText().then(t => t === code)", arg=CODE, timeout=10000)

        maths = answer.locator(".markdown math")
        assert maths.count() == 2
        assert [m.get_attribute("display") for m in maths.all()] == ["inline", "block"]
        box = maths.nth(1).bounding_box()
        assert box and box["height"] > 20  # a fraction, laid out by the browser's MathML
        assert answer.locator(".markdown mfrac").count() == 1
        assert "costs $5 and $10." in answer.locator(".markdown").inner_text()

        answer.locator(".actions .copy-button").click()
        page.wait_for_function("md => navigator.clipboard.readText().then(t => t === md)", arg=ANSWER, timeout=10000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"code-and-math-{width}-{scheme}.png"), full_page=True)

        page.reload()
        answer = answered(page)
        assert answer.locator("pre code span.k").count() >= 1 and answer.locator(".markdown math").count() == 2
        answer.locator(".actions .copy-button").click()
        page.wait_for_function("md => navigator.clipboard.readText().then(t => t === md)", arg=ANSWER, timeout=10000)
