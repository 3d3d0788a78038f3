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
