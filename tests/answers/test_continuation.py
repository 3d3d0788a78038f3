"""What a continued answer is made of: the answer so far, then what the
model wrote when asked to go on (app/answers/continuation.py)."""

from app.answers.continuation import joined
from app.providers.ending import Usage
from app.storage.answer_endings import Finished
from app.storage.queries import Reopened


def test_the_texts_thoughts_tokens_and_seconds_of_both_calls_add_up():
    earlier = Reopened("The first half", "Thinking first.", Usage(100, 50, 20), seconds=2.0)
    called = Finished(" and the rest.", "complete", seconds=1.5, usage=Usage(160, 30, None), thoughts=" Then more.",
                      finish_reason="STOP")
    answer = joined(earlier, called)
    assert answer.text == "The first half and the rest."
    assert answer.thoughts == "Thinking first. Then more."
    assert answer.usage == Usage(260, 80, 20)
    assert answer.seconds == 3.5
    assert (answer.outcome, answer.finish_reason) == ("complete", "STOP"), "how it ended is the continuation's"


def test_tokens_known_for_one_call_only_are_kept_and_nothing_continued_is_the_call_itself():
    called = Finished("text", "truncated", usage=Usage(10, 5))
    assert joined(Reopened("a", "", None), called).usage == Usage(10, 5)
    assert joined(Reopened("a", "", Usage(10, 5)), Finished("b", "stopped")).usage == Usage(10, 5)
    assert joined(None, called) is called
