"""Reading Vertex AI's REST stream (one JSON array) as its bytes arrive."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.providers.json_array_stream import MAX_ELEMENT_CHARS, JsonArrayStream

ELEMENTS = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    for text in ["plain", "brackets ] [ and braces } {", 'quotes " and \\ backslashes', "ünïcödé 😀 across bytes", ""]
]
# As Vertex sends it: `[` and the first element, then `,\r\n` and each next one, pretty-printed.
BODY = ("[" + ",\r\n".join(json.dumps(e, indent=2, ensure_ascii=False) for e in ELEMENTS) + "]").encode()


def cut(body, positions):
    positions = sorted(set(positions))
    return [body[a:b] for a, b in zip([0, *positions], [*positions, len(body)])]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(BODY) - 1), max_size=60))
def test_every_element_comes_whole_wherever_the_bytes_are_cut(positions):
    assert list(JsonArrayStream(cut(BODY, positions))) == ELEMENTS


def test_an_element_is_given_as_soon_as_its_bytes_are_in():
    first, rest = b'[{"a": 1}', [b',\r\n{"b": 2}]']

    def chunks():
        yield first
        raise AssertionError("read past the first element before handing it out")

    assert next(JsonArrayStream(chunks())) == {"a": 1}
    assert list(JsonArrayStream([first, *rest])) == [{"a": 1}, {"b": 2}]


def test_what_is_not_json_is_an_error_at_once_not_at_the_end_of_the_stream():
    def chunks():
        yield b'[{"a": 1},\r\n{not json: <html>}'
        raise AssertionError("waited for more after an element that can never be JSON")

    stream = JsonArrayStream(chunks())
    assert next(stream) == {"a": 1}
    with pytest.raises(ValueError, match="not JSON"):
        next(stream)


@pytest.mark.parametrize("body, message", [
    (b'{"a": 1}', "not a JSON array"),
    (b'[{"a": 1}', "ended before its array closed"),
    (b'[{"a": "unfinished', "ended before its array closed"),
    (b'[{"a": 1}] trailing', "data after its end"),
])
def test_a_stream_that_is_not_one_whole_array_is_an_error(body, message):
    with pytest.raises(ValueError, match=message):
        list(JsonArrayStream([body]))


def test_an_empty_body_or_array_has_no_elements():
    assert list(JsonArrayStream([])) == []
    assert list(JsonArrayStream([b"[", b" ]", b"\r\n"])) == []


def test_the_body_is_read_to_its_end_after_the_array_closes():
    """So that the HTTP connection goes back to its pool for the next answer."""
    read = []

    def chunks():
        for chunk in (b'[{"a": 1}', b"]", b"\r\n"):
            read.append(chunk)
            yield chunk

    assert list(JsonArrayStream(chunks())) == [{"a": 1}]
    assert read == [b'[{"a": 1}', b"]", b"\r\n"]


def test_an_element_without_end_is_not_buffered_without_end():
    def chunks():
        yield b'[{"text": "'
        while True:
            yield b"x" * 65536

    with pytest.raises(ValueError, match="too large"):
        list(JsonArrayStream(chunks()))
    assert MAX_ELEMENT_CHARS < 10**8
