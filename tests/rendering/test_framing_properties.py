"""Property-based tests: whatever text a model produces, the page route's SSE
decodes to exactly the escaped text (nothing in it becomes markup), and the
chunked API's bytes are exactly the text."""

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.rendering.markdown import split_for_streaming
from tests.page_flow import Bubble, post, read_all, subscribe
from tests.scripted_model import ScriptedChatModel
from tests.sse_client import decode_events

# Any unicode, weighted towards what breaks framing: every kind of newline,
# NUL, and HTML's special characters.
tricky = st.sampled_from(["\n", "\r", "\r\n", "\0", "<", ">", "&", '"', "'", "<script>", "</hx-partial>", "data: "])
piece = st.lists(st.one_of(st.text(min_size=1, max_size=8), tricky), min_size=1, max_size=6).map("".join)
answers = st.lists(piece, min_size=1, max_size=8)

PIECE = re.compile(r'<hx-partial hx-target="#m-\d+-text" hx-swap="(beforeend|innerHTML)">(.*?)</hx-partial>', re.S)
RULES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def single_line_blocks(pieces):
    # A blank line finishes a markdown block, which is then sent rendered
    # (checked separately below); here, text with no blank line stays text.
    return "\n\n" not in "".join(pieces).replace("\r\n", "\n").replace("\r", "\n")


def followed(client):
    """A message's answer, followed through the page's subscription to its end."""
    _conversation_id, _answer_id, bubbles = post(client, "/messages", message="q")
    return read_all(subscribe(client, bubbles))


@RULES
@given(pieces=answers)
def test_page_route_decodes_to_the_escaped_pieces(make_app, pieces):
    if not single_line_blocks(pieces):
        return
    client = make_app(chat_model=ScriptedChatModel(pieces=pieces)).test_client()
    body = followed(client)
    streamed = [PIECE.fullmatch(e["data"]) for e in decode_events(body)[:-2]]
    assert all(streamed), "every event before the finished answer is escaped text"
    for match in streamed:
        assert "<" not in match.group(2) and ">" not in match.group(2), "nothing becomes markup"
    bubble = Bubble(split_for_streaming(""))
    bubble.apply(body)
    # What the page shows is what a reload shows: the text, less blank lines
    # before the first block (pieces are never split or reordered).
    whole = "".join(pieces)
    assert bubble.parts["text"] == str(split_for_streaming(whole).tail)
    if not re.match(r"[ \t]*(\r\n|\r|\n)", whole):
        assert html.unescape(bubble.parts["text"]).replace("\ufffd", "\0") == whole


@RULES
@given(pieces=answers)
def test_rendered_blocks_are_sanitised(make_app, pieces):
    pieces = [p + "\n\n" for p in pieces]  # every piece finishes a block
    client = make_app(chat_model=ScriptedChatModel(pieces=pieces)).test_client()
    body = followed(client)
    for event in decode_events(body):
        data = event["data"].lower()
        assert "<script" not in data and "javascript:" not in re.sub(r">[^<]*<", "><", data)
        assert not re.search(r"<[^>]+\son\w+\s*=", data), "no event handler attributes"


@RULES
@given(pieces=answers)
def test_text_api_bytes_are_the_text(make_app, pieces):
    client = make_app(chat_model=ScriptedChatModel(pieces=pieces)).test_client()
    response = client.post("/api/chat/stream", json={"message": "q"}, buffered=False)
    assert b"".join(response.response) == "".join(pieces).encode()
