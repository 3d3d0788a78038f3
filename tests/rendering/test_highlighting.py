"""Code is highlighted once, when an answer is finished, within a budget;
streams and pages never highlight, and a language without a measured-linear
lexer is never lexed in the app's process."""

import re
import threading

from app import offload
from app.rendering import highlighting, markdown
from app.rendering.markdown import render_answer, render_markdown
from app.storage.engine import session_for
from app.storage.models import Message
from tests.page_flow import send
from tests.scripted_model import ScriptedChatModel

# Ruby: its lexer is measured linear (safe_lexers.py), and runs in the app's process.
CODE = 'Look:\n\n```ruby\ndef greet(name)\n  "hello #{name} & co"\nend\n```\n\nDone.'
# Pygments' tokens, right inside a code block (escaped code can hold no raw <span).
HIGHLIGHTED = re.compile(r'<code[^>]*><span class="')


def highlighted(html):
    return len(HIGHLIGHTED.findall(html))


def test_a_finished_answer_is_stored_highlighted_and_the_stream_never_highlights(make_app):
    app = make_app(chat_model=ScriptedChatModel(pieces=[CODE[:20], CODE[20:50], CODE[50:]]))
    client = app.test_client()
    conversation_id, stream = send(client, "code please")
    pieces, final = stream.split('hx-swap="outerHTML"', 1)
    with session_for(app) as db:
        answer = db.query(Message).filter_by(role="assistant").one()
    assert highlighted(answer.rendered) and "greet" in answer.rendered
    assert highlighted(final)  # the last event shows it as stored
    assert not highlighted(pieces)  # the pieces before it do not
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert answer.rendered in page


def test_a_page_shows_an_answer_without_stored_html_plain(make_app):
    app = make_app(chat_model=ScriptedChatModel(pieces=[CODE]))
    client = app.test_client()
    conversation_id, _ = send(client, "code please")
    with session_for(app) as db:
        answer = db.query(Message).filter_by(role="assistant").one()
        answer.rendered = None  # cut off with its process, or older than stored rendering
        db.commit()
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert '"hello #{name} &amp; co"' in page and not highlighted(page)


def test_languages_without_a_linear_lexer_are_never_lexed_in_the_app_process(monkeypatch):
    # AutoIt's lexer is quadratic on unclosed strings (19 s for 8,000
    # characters once): such blocks go to the highlighting process
    # (test_highlight_process.py); with it answering nothing, they are plain.
    sent = []
    monkeypatch.setattr(highlighting, "highlight_elsewhere", lambda blocks: sent.extend(blocks) or [""] * len(blocks))
    attack = '"' * 3000
    for lang in ("autoit", "systemd", "make", "terraform", "cfengine3", "python"):
        html = render_answer(f"```{lang}\n{attack}\n```")
        assert not highlighted(html) and attack in html.replace("&quot;", '"'), lang
        assert sent.pop() == (attack + "\n", lang)
    assert not highlighted(render_answer(f"```\n{attack}\n```")) and not sent  # no language: plain, sent nowhere
    assert highlighted(render_answer("```Ruby \nx = 1\n```")) and not sent


def test_a_block_over_the_size_limit_is_shown_plain():
    big = "x = 1\n" * (highlighting.BLOCK_MAX_CHARS // 6 + 1)
    assert not highlighted(render_answer(f"```ruby\n{big}```"))
    assert highlighted(render_answer(f"```ruby\n{big[:1200]}```"))


def test_once_the_budget_is_spent_every_later_block_is_plain():
    two_blocks = "```ruby\nx = 1\n```\n\n```ruby\ny = 2\n```"
    assert highlighted(highlighting.render_finished(render_markdown, two_blocks, budget_seconds=0)) == 0
    assert highlighted(highlighting.render_finished(render_markdown, two_blocks, budget_seconds=60)) == 2


def test_a_block_that_outlasts_the_budget_midway_is_plain(monkeypatch):
    monkeypatch.setattr(highlighting, "TOKENS_PER_CHECK", 1)
    ticks = iter(range(10**6))
    monkeypatch.setattr(highlighting.time, "thread_time", lambda: next(ticks))  # one "second" per look
    html = highlighting.render_finished(render_markdown, "```ruby\n" + "x = 1\n" * 50 + "```", budget_seconds=20)
    assert not highlighted(html) and "x = 1" in html


def test_highlighting_runs_on_a_native_thread_under_gevent(monkeypatch):
    monkeypatch.setattr(offload, "_gevent_patched_threads", lambda: True)
    here = threading.get_ident()
    assert offload.run_off_the_hub(threading.get_ident) != here


def test_a_long_block_is_rendered_off_the_hub(monkeypatch):
    # Markdown is linear, but 80,000 characters of "![" still take a second.
    moved = []
    monkeypatch.setattr(markdown, "run_off_the_hub", lambda work: moved.append(work) or work())
    assert markdown.render_block("short *one*") == "<p>short <em>one</em></p>\n" and not moved
    long_block = "![" * markdown.INLINE_RENDER_CHARS
    assert "![![" in markdown.render_block(long_block) and len(moved) == 1


def test_an_answer_whose_rendering_fails_is_still_saved(make_app):
    app = make_app(chat_model=ScriptedChatModel(pieces=[CODE]))
    app.extensions["render_answer"] = lambda text: 1 / 0
    client = app.test_client()
    conversation_id, _ = send(client, "code please")
    with session_for(app) as db:
        answer = db.query(Message).filter_by(role="assistant").one()
    assert (answer.outcome, answer.content, answer.rendered) == ("complete", CODE, None)
    assert "def greet(name)" in client.get(f"/c/{conversation_id}").get_data(as_text=True)


def test_renders_at_the_same_time_each_highlight_with_their_own_callback():
    # One parser serves every finished answer; each render's callback (and
    # budget) is its own, also while another render is halfway through.
    first_inside, second_done = threading.Event(), threading.Event()
    results = {}

    def first_highlight(_code, _lang, _attrs):
        first_inside.set()
        assert second_done.wait(5)
        return "<pre><code>first</code></pre>"

    first = threading.Thread(target=lambda: results.update(first=render_markdown("```ruby\nx\n```", first_highlight)))
    first.start()
    assert first_inside.wait(5)
    results["second"] = render_markdown("```ruby\ny\n```", lambda *_: "<pre><code>second</code></pre>")
    second_done.set()
    first.join(5)
    assert "first" in results["first"] and "second" not in results["first"]
    assert "second" in results["second"] and "first" not in results["second"]
    plain = render_markdown("```ruby\nz\n```")  # no callback: plain, whatever ran before
    assert "z" in plain and "first" not in plain and "second" not in plain
