"""The reply pipeline itself (app.answers.reply_pipeline.stream_reply), without a route."""

import time

from langchain_core.messages import HumanMessage

from app.answers.outcomes import COMPLETE, TOO_LONG
from app.answers.reply_pipeline import Finished, Piece, UpstreamLimits, stream_reply
from tests.scripted_model import ScriptedChatModel

QUESTION = [HumanMessage("q")]


def test_pieces_that_piled_up_while_the_consumer_was_busy_leave_as_one():
    model = ScriptedChatModel(pieces=["a", "b", "c", "d"], delay=0.1)
    events = stream_reply(model, QUESTION)
    first = next(events)
    time.sleep(0.6)  # busy elsewhere (a slow client, a loaded worker): b, c and d wait
    rest = list(events)
    pieces = [first] + [e for e in rest if isinstance(e, Piece)]
    finished = rest[-1]
    assert "".join(p.text for p in pieces) == "abcd"
    assert len(pieces) == 2, "everything queued behind the first piece is joined"
    assert isinstance(finished, Finished) and finished.outcome == COMPLETE and finished.text == "abcd"
    assert finished.pieces == 4, "the rate shown counts the model's pieces, not the writes"


def test_a_paced_model_keeps_its_pieces():
    model = ScriptedChatModel(pieces=["a", "b", "c"], delay=0.1)
    events = list(stream_reply(model, QUESTION))
    assert [e.text for e in events if isinstance(e, Piece)] == ["a", "b", "c"]


def test_an_error_after_piled_up_pieces_still_ends_the_answer_with_them():
    model = ScriptedChatModel(pieces=["a", "b", "never"], fail_after=2)
    events = stream_reply(model, QUESTION)
    next(events)
    time.sleep(0.2)
    finished = list(events)[-1]
    assert finished.outcome == "error" and finished.text == "ab" and finished.pieces == 2


def test_an_answer_is_cut_at_its_time_limit_and_keeps_what_it_said():
    model = ScriptedChatModel(pieces=["a"] * 200, delay=0.02)
    events = list(stream_reply(model, QUESTION, limits=UpstreamLimits(answer_seconds=0.3)))
    finished = events[-1]
    assert finished.outcome == "error" and finished.error == TOO_LONG
    assert 0 < len(finished.text) < 200 and finished.text == "".join(e.text for e in events if isinstance(e, Piece))
    assert model.closed.wait(2), "the model stream is closed"


class RecordingSink:
    """What an answer's live log would be sent (app/answers/live.py)."""

    def __init__(self):
        self.text, self.thoughts = [], []

    def append(self, text):
        self.text.append(text)

    def append_thought(self, text):
        self.thoughts.append(text)


def test_with_a_sink_the_pieces_go_to_it_and_only_the_end_comes_here():
    model = ScriptedChatModel(pieces=["a", "b", "c"], delay=0.05)
    sink = RecordingSink()
    events = list(stream_reply(model, QUESTION, heartbeat_seconds=None, sink=sink))
    assert sink.text == ["a", "b", "c"], "each piece, in order, as it came"
    assert len(events) == 1 and isinstance(events[0], Finished)
    finished = events[0]
    assert finished.outcome == COMPLETE and finished.text == "abc" and finished.pieces == 3
    assert finished.first_piece_seconds is not None


def test_a_sink_keeps_the_stall_timeout_while_pieces_keep_coming():
    # Pieces 0.1 s apart never trip a 0.4 s stall limit, although none of
    # them passes through the pipeline's own loop.
    model = ScriptedChatModel(pieces=["a"] * 8, delay=0.1)
    sink = RecordingSink()
    events = list(stream_reply(model, QUESTION, None, sink=sink, limits=UpstreamLimits(stall_seconds=0.4)))
    assert events[-1].outcome == COMPLETE and events[-1].text == "a" * 8 == "".join(sink.text)


def test_a_sink_still_sees_a_stall_cut_the_answer():
    model = ScriptedChatModel(pieces=["x", "y", "never"], stall_before=2, stall_seconds=3)
    sink = RecordingSink()
    events = list(stream_reply(model, QUESTION, None, sink=sink, limits=UpstreamLimits(stall_seconds=0.3)))
    finished = events[-1]
    assert finished.outcome == "error" and finished.text == "xy" == "".join(sink.text)


def test_a_sink_gets_nothing_after_the_answer_ended():
    model = ScriptedChatModel(pieces=["a"] * 200, delay=0.01)
    sink = RecordingSink()
    events = list(stream_reply(model, QUESTION, None, sink=sink, limits=UpstreamLimits(answer_seconds=0.3)))
    finished = events[-1]
    assert finished.error == TOO_LONG and 0 < len(finished.text) < 200
    assert model.closed.wait(2)
    assert "".join(sink.text) == finished.text, "the live log and the saved answer agree"
