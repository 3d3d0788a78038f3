"""A finished answer carries its markdown for Copy, as escaped text in an
inert <template>: nothing in it is markup."""

import html
import re

from tests.page_flow import send
from tests.scripted_model import ScriptedChatModel

ATTACK = '```py\nx = 1\n```\n\n| a |\n|---|\n</template><script>alert(1)</script><hx-partial id="x">&amp; $x$'
SOURCE = re.compile(r'<template class="answer-source">(.*?)</template>', re.S)


def test_a_finished_answer_keeps_its_markdown_escaped_for_copy(make_app):
    app = make_app(chat_model=ScriptedChatModel(pieces=[ATTACK[:30], ATTACK[30:]]))
    client = app.test_client()
    conversation_id, stream = send(client, "anything")
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    for where in (page, stream.replace("data: ", "")):
        sources = SOURCE.findall(where)
        assert len(sources) == 1
        assert "<" not in sources[0] and html.unescape(sources[0]) == ATTACK
    assert "<script>alert" not in page and "<hx-partial" not in page
