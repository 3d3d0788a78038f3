"""Makes the README's pictures of the page as a person sees it: a real
gunicorn on Gemini (the tests' Vertex AI stand-in, which answers with the
text given here), in headless Chromium at 1200 x 800.

    .venv/bin/python docs/screenshots.py

- docs/screenshot.png: a question and its answer with a highlighted Python
  function, its stats line and the sidebar;
- docs/attached-image.png: an answer about an attached image (a chart drawn
  here with Pillow), its thumbnail in the question.

The answers are scripted, so the pictures show the page, not a model's
wording; rerun after a change to the page's look.
"""

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.stack import gunicorn  # noqa: E402
from tests.end_to_end.conftest import CHROMIUM, CHROMIUM_ARGS, gemini_env, send  # noqa: E402
from tests.providers.vertex_standin import VertexStandIn  # noqa: E402

CODE_QUESTION = "Write a Python function that checks whether a string is a palindrome."
CODE_ANSWER = [
    "Here is a short function that ignores case, spaces and punctuation:\n\n",
    "```python\ndef is_palindrome(text: str) -> bool:\n",
    '    """True if `text` reads the same backwards, letters and digits only."""\n',
    "    letters = [c.lower() for c in text if c.isalnum()]\n",
    "    return letters == letters[::-1]\n```\n\n",
    "For example, `is_palindrome(\"A man, a plan, a canal: Panama\")` is **True**, ",
    "and `is_palindrome(\"hello\")` is **False**.",
]
IMAGE_QUESTION = "Which quarter sold best, and by how much?"
IMAGE_ANSWER = [
    "The chart shows sales for four quarters. **Q3 sold best**: its bar reaches about 90, ",
    "against about 70 for Q4, the next highest, so roughly **20 units (about 29 %) more**.\n\n",
    "| quarter | approximate sales |\n|---|---|\n| Q1 | 40 |\n| Q2 | 55 |\n| Q3 | 90 |\n| Q4 | 70 |",
]


def chart_png():
    """A small bar chart, as a person might attach a screenshot of one."""
    image = Image.new("RGB", (480, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, 260), (460, 260)], fill="black", width=2)
    draw.line([(40, 20), (40, 260)], fill="black", width=2)
    for index, (label, value, colour) in enumerate(
            [("Q1", 40, "#4e79a7"), ("Q2", 55, "#59a14f"), ("Q3", 90, "#e15759"), ("Q4", 70, "#f28e2b")]):
        left = 70 + index * 100
        draw.rectangle([left, 260 - value * 2.4, left + 60, 260], fill=colour)
        draw.text((left + 22, 268), label, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main():
    with tempfile.TemporaryDirectory() as work, VertexStandIn(transport="rest") as standin:
        chart = Path(work) / "sales-by-quarter.png"
        chart.write_bytes(chart_png())
        env = gemini_env(standin, CHAT_MODELS="gemini-2.5-flash,gemini-2.5-pro")
        with gunicorn(Path(work), env) as (base, _log, _process), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            page.goto(base + "/")
            standin.respond(pieces=CODE_ANSWER, usage=(14, 96, 0), delay=0.08)
            send(page, CODE_QUESTION)
            page.wait_for_selector(".message.assistant.outcome-complete")
            page.mouse.move(0, 0)
            page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))

            page.goto(base + "/")
            standin.respond(pieces=IMAGE_ANSWER, usage=(272, 88, 0), delay=0.15)
            page.set_input_files("#attach-files", files=[str(chart)])
            send(page, IMAGE_QUESTION)
            page.wait_for_selector(".message.assistant.outcome-complete")
            page.wait_for_function("[...document.querySelectorAll('.message.user img')].every(i => i.complete)")
            page.locator(".message.user").last.evaluate("question => question.scrollIntoView({block: 'start'})")
            page.mouse.move(0, 0)
            page.screenshot(path=str(ROOT / "docs" / "attached-image.png"))
            browser.close()
    print("docs/screenshot.png and docs/attached-image.png written")


if __name__ == "__main__":
    main()
