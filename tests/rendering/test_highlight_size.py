"""What an answer's highlighted HTML may cost in storage: bounded by its text.

A block of one-character tokens highlights to 25 times its size (a span
each); such a block is stored as plain escaped code instead, still labelled
with its language and given its Copy button."""

from app.rendering.highlighting import ANSWER_HTML_MAX_CHARS, HTML_MAX_RATIO
from app.rendering.markdown import render_answer
from app.storage.engine import session_for
from app.storage.models import Message
from tests.page_flow import send
from tests.rendering.test_highlighting import highlighted
from tests.scripted_model import ScriptedChatModel

# Elm's lexer is measured linear, and gives "a" and ";" a span each.
SPANS = "a;" * 4000
ORDINARY_SQL = "SELECT a, b, count(*) FROM t JOIN u ON u.id = t.u_id WHERE x > 3 GROUP BY a, b;\n" * 40


def test_a_block_that_highlights_to_many_times_its_size_is_stored_plain(make_app):
    text = f"Here:\n\n```elm\n{SPANS}\n```\n"
    app = make_app(chat_model=ScriptedChatModel(pieces=[text]))
    client = app.test_client()
    conversation_id, _ = send(client, "spans please")
    with session_for(app) as db:
        answer = db.query(Message).filter_by(role="assistant").one()
    assert answer.content == text
    assert len(answer.rendered) < 2 * len(text)  # 8,000 characters stored 200 kB before
    assert not highlighted(answer.rendered) and SPANS in answer.rendered
    assert 'class="language-elm"' in answer.rendered and "copy-button" in answer.rendered
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert answer.rendered in page


def test_ordinary_code_is_still_highlighted_within_the_ratio():
    html = render_answer(f"```sql\n{ORDINARY_SQL}```")
    assert highlighted(html)
    assert len(html) <= HTML_MAX_RATIO * len(ORDINARY_SQL) + 200


def test_an_answers_blocks_share_one_cap_and_later_ones_are_plain():
    block = f"```sql\n{ORDINARY_SQL}```\n\n"
    blocks = 2 + ANSWER_HTML_MAX_CHARS // (HTML_MAX_RATIO * len(ORDINARY_SQL))
    html = render_answer(block * blocks)
    assert 0 < highlighted(html) < blocks
    assert html.count('class="language-sql"') == blocks
    assert len(html) <= ANSWER_HTML_MAX_CHARS + 2 * blocks * len(block)
