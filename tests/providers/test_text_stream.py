"""How the pipeline reads a model's text: past LangChain's per-piece
bookkeeping unless something would miss it."""

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage

from app.providers import fake
from app.providers.fake import FakeEchoChatModel
from app.providers.text_stream import stream_text
from tests.scripted_model import ScriptedChatModel

QUESTION = [HumanMessage("What is baseball?")]


class TokenRecorder(BaseCallbackHandler):
    def __init__(self):
        self.tokens = []

    def on_llm_new_token(self, token, **kwargs):
        self.tokens.append(token)


def clear_env_cache():
    from langsmith.utils import get_env_var  # caches what it read

    get_env_var.cache_clear()


@pytest.fixture(autouse=True)
def no_tracing(monkeypatch):
    for name in ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"):
        monkeypatch.delenv(name, raising=False)
    clear_env_cache()
    yield
    monkeypatch.undo()
    clear_env_cache()


def test_the_apps_own_models_yield_plain_text():
    pieces = list(stream_text(FakeEchoChatModel(chunks=3), QUESTION))
    assert all(type(piece) is str for piece in pieces)
    assert len(pieces) == 3 and "".join(pieces) == "What is baseball?"


def test_any_other_chat_model_is_read_through_its_stream_method():
    model = ScriptedChatModel(pieces=["a", "", "b"])
    assert list(stream_text(model, QUESTION)) == ["a", "b"]  # empty pieces dropped
    assert model.received == [QUESTION]


@pytest.mark.parametrize("model", [ScriptedChatModel(pieces=["a", "b"]), FakeEchoChatModel(chunks=2)])
def test_callbacks_on_the_model_still_see_every_piece(model):
    recorder = TokenRecorder()
    model.callbacks = [recorder]
    text = list(stream_text(model, [HumanMessage("ab")]))
    assert text == ["a", "b"]
    assert [token for token in recorder.tokens if token] == ["a", "b"]


def test_without_callbacks_no_langchain_run_is_opened(monkeypatch):
    def no_runs(*_args, **_kwargs):
        raise AssertionError("stream() was used")

    model = ScriptedChatModel(pieces=["a"])
    monkeypatch.setattr(type(model), "stream", no_runs)
    assert list(stream_text(model, QUESTION)) == ["a"]


def test_langsmith_tracing_goes_through_stream(monkeypatch):
    from app.providers.text_stream import wants_langchain_bookkeeping

    model = ScriptedChatModel(pieces=["a"])
    assert not wants_langchain_bookkeeping(model)
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    clear_env_cache()
    assert wants_langchain_bookkeeping(model)


@pytest.mark.parametrize("own", [True, False])
def test_closing_the_text_closes_the_model_stream(own):
    if own:
        closed_before = fake.OPEN_STREAMS.closed
        pieces = stream_text(FakeEchoChatModel(chunks=5), QUESTION)
        next(pieces)
        pieces.close()
        assert fake.OPEN_STREAMS.closed == closed_before + 1
    else:
        model = ScriptedChatModel(pieces=["a", "b", "c"])
        pieces = stream_text(model, QUESTION)
        next(pieces)
        pieces.close()
        assert model.closed.is_set() and model.yielded == 1


class VirtualClock:
    """Stands in for the `time` module the fake model reads: it only moves when
    someone sleeps, so what the fake decides does not depend on the machine."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_fake_keeps_its_own_clock_when_the_reader_is_late(monkeypatch):
    # Pieces due every 100 ms. A reader that pauses 350 ms after the first
    # finds the next three already due, as it would with a remote model, and
    # the fourth still comes on time (at 400 ms), not 350 ms late.
    clock = VirtualClock()
    monkeypatch.setattr(fake, "time", clock)
    pieces = stream_text(FakeEchoChatModel(chunks=5, ttft_ms=0, chunk_ms=100), [HumanMessage("abcde")])
    assert next(pieces) == "a"
    clock.now += 0.35  # the reader is busy elsewhere
    assert [next(pieces) for _ in range(3)] == ["b", "c", "d"]
    assert clock.slept == [], "pieces already due come without waiting"
    assert next(pieces) == "e"
    assert clock.slept == [0.05] and clock.now == pytest.approx(0.4)