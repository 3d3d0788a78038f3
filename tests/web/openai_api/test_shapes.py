"""The response shapes as pure functions."""

import json

from app.web.openai_api.shapes import Completion


def test_a_content_chunk_made_from_its_cached_frame_is_the_chunk_json_would_make():
    completion = Completion("chatcmpl-abc", 1700000000, 'model "quoted"')
    for text in ["Hello", 'a "quote", a \\ and a\nnewline', "é, 中文, \u2028 and an emoji 🙂"]:
        event = completion.content_chunk(text)
        assert event == completion.chunk({"content": text})
        assert json.loads(event.removeprefix("data: "))["choices"][0]["delta"] == {"content": text}
        assert event.endswith("\n\n") and event.count("\n") == 2
