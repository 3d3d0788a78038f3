"""A Gemini response read from either wire form says the same: the raw
protobuf message (gRPC) and the JSON element (REST), for every kind of
response the stand-in sends (tests/providers/vertex_standin.py)."""

import json

import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1beta1.types import GenerateContentResponse

from app.providers.ending import Usage
from app.providers.gemini_responses import read_json, read_message
from tests.providers.vertex_standin import Script, build_responses

SCRIPTS = {
    "text": Script(pieces=["Hello, ", "wörld <b>"], usage=(7, None, 0)),
    "thoughts": Script(thoughts=["Let me think."], pieces=["Answer."], usage=(3, 1, 12)),
    "cut at length": Script(pieces=["Half"], finish_reason="MAX_TOKENS"),
    "blocked answer": Script(pieces=["Some"], finish_reason="SAFETY", blocked_category="HARM_CATEGORY_HARASSMENT"),
    "blocked question": Script(prompt_block="PROHIBITED_CONTENT", blocked_category="HARM_CATEGORY_DANGEROUS_CONTENT"),
    "grounded": Script(pieces=["Paris is the capital."], grounding={
        "sources": [("https://example.org/paris", "Paris")], "supports": [("Paris", [0])], "queries": ["capital"],
    }),
    "no usage": Script(pieces=["x"], usage=None),
    "an image and audio": Script(pieces=["A cat."], usage=(1300, 2, 0),
                                 prompt_details={"TEXT": 10, "IMAGE": 258, "AUDIO": 1032}),
}


def both_readings(response):
    raw = GenerateContentResponse.pb(response)
    # As Vertex sends it over REST when asked for `enum-encoding=int`.
    element = json.loads(GenerateContentResponse.to_json(
        response, use_integers_for_enums=True, always_print_fields_with_no_presence=False))
    return read_message(raw), read_json(element)


@pytest.mark.parametrize("name", SCRIPTS)
def test_both_wire_forms_read_the_same(name):
    for response in build_responses(SCRIPTS[name], "gemini-2.5-flash"):
        from_grpc, from_rest = both_readings(response)
        assert from_grpc == from_rest


def test_text_thoughts_and_usage():
    responses = build_responses(SCRIPTS["thoughts"], "gemini-2.5-flash")
    readings = [read_message(GenerateContentResponse.pb(r)) for r in responses]
    assert [r.thoughts for r in readings] == [["Let me think."], []]
    assert [r.text for r in readings] == ["", "Answer."]
    assert readings[-1].finish_reason == "STOP"
    assert readings[-1].usage == Usage(3, 1, 12)


def test_the_input_by_modality_is_read_where_gemini_sends_it():
    responses = build_responses(SCRIPTS["an image and audio"], "gemini-2.5-flash")
    for reading in both_readings(responses[-1]):
        assert reading.usage == Usage(1300, 2, 0, (("text", 10), ("image", 258), ("audio", 1032)))
        assert reading.usage.media_input == (("image", 258), ("audio", 1032))
    assert read_message(GenerateContentResponse.pb(build_responses(SCRIPTS["text"], "m")[-1])).usage == Usage(7, 2, 0)


def test_blocks_name_their_reason_and_category():
    answer = read_message(GenerateContentResponse.pb(build_responses(SCRIPTS["blocked answer"], "m")[-1]))
    assert (answer.finish_reason, answer.prompt_block, answer.category) == (
        "SAFETY", None, "HARM_CATEGORY_HARASSMENT")
    question = read_message(GenerateContentResponse.pb(build_responses(SCRIPTS["blocked question"], "m")[-1]))
    assert (question.prompt_block, question.category) == ("PROHIBITED_CONTENT", "HARM_CATEGORY_DANGEROUS_CONTENT")


def test_grounding_is_read_with_its_sources():
    reading = read_message(GenerateContentResponse.pb(build_responses(SCRIPTS["grounded"], "m")[-1]))
    assert [source.uri for source in reading.grounding.sources] == ["https://example.org/paris"]


def test_an_enum_value_newer_than_the_library_stays_readable():
    element = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": 999}]}
    assert read_json(element).finish_reason == "FinishReason_999"


@pytest.mark.parametrize("status, error", [
    (500, exceptions.InternalServerError), (429, exceptions.TooManyRequests), (503, exceptions.ServiceUnavailable),
])
def test_an_error_element_is_raised_as_its_status(status, error):
    with pytest.raises(error, match="went wrong"):
        read_json({"error": {"code": status, "message": "Something went wrong.", "status": "X"}})


def test_an_element_that_is_not_an_object_is_an_error():
    with pytest.raises(ValueError):
        read_json(["not", "an", "object"])
