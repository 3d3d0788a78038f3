"""One exported conversation checked for import: what it becomes, and what is refused."""

import pytest

from app.config import Config
from app.portability.import_records import Limits, RecordRefused, conversation_from

LIMITS = Limits(max_message_chars=100, models=("gemini-2.5-flash",), offline=True, upload_config=Config())
AT = "2026-12-07T13:40:00Z"


def record(**changes):
    base = {"id": "abc", "title": "Tides", "created_at": AT, "updated_at": "2026-12-07T14:40:00+01:00",
            "model": "gemini-2.5-flash", "instructions": None, "messages": [
                {"role": "user", "content": "What is a tide?", "created_at": AT},
                {"role": "assistant", "content": "The sea rises.", "created_at": AT, "outcome": "complete",
                 "sources": [{"title": "Tides", "uri": "https://example.org/tides"}],
                 "usage": {"input_tokens": 3, "output_tokens": 4, "reasoning_tokens": None}},
            ]}
    base.update(changes)
    return base


def test_a_conversation_keeps_its_times_sources_usage_and_is_known_by_its_origin():
    imported = conversation_from(record(origin="first-id"), LIMITS)
    assert imported.origin == "first-id" and imported.model == "gemini-2.5-flash"
    assert imported.updated_at.isoformat() == "2026-12-07T13:40:00"  # in UTC, as stored
    answer = imported.messages[1]
    assert answer.grounding.sources[0].domain == "example.org" and answer.usage.output_tokens == 4
    assert conversation_from(record(), LIMITS).origin == "abc"


def test_the_input_by_modality_comes_back_with_the_usage():
    document = record()
    document["messages"][1]["usage"]["input_tokens_by_modality"] = {"text": 1, "image": 2}
    usage = conversation_from(document, LIMITS).messages[1].usage
    assert usage.media_input == (("image", 2),) and usage.modalities_json() == '{"text": 1, "image": 2}'


def test_an_answer_still_streaming_is_stored_interrupted_and_an_unknown_model_becomes_the_default():
    document = record(model="a-model-not-here")
    document["messages"][1]["outcome"] = "streaming"
    imported = conversation_from(document, LIMITS)
    assert imported.messages[1].outcome == "interrupted" and imported.model is None


@pytest.mark.parametrize("change, refusal", [
    (lambda d: d["messages"][1].update(attachments=[{"name": "a.txt"}]), "only questions carry files"),
    (lambda d: d["messages"][0].update(content=""), "message 1 (a question) is empty"),
    (lambda d: d["messages"][0].update(content="\ud800"), "lone surrogate"),
    (lambda d: d["messages"][1].update(usage={"input_tokens": -1}), "whole numbers of tokens"),
    (lambda d: d["messages"][1]["usage"].update(input_tokens_by_modality={"smell": 1}), "named text, image"),
    (lambda d: d["messages"][1].update(search="yes"), "search must be true or false"),
    (lambda d: d.update(id=None), "its id must be text"),
    (lambda d: d["messages"][0].update(attachments=[{"name": "n.txt", "mime_type": "text/plain", "size": 1,
                                                     "sha256": "0" * 64, "data": "not base64!"}]),
     "data is not base64"),
])
def test_what_is_refused(change, refusal):
    document = record()
    change(document)
    with pytest.raises(RecordRefused) as refused:
        conversation_from(document, LIMITS)
    assert refusal in str(refused.value)
