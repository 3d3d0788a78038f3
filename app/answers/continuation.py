"""Continue: a truncated answer goes on from where it stopped, into the same
answer (one message, one bubble), not as a new question and answer.

The model is sent the conversation up to the answer, the answer so far as its
own last turn, and then a short instruction from the user's side. Why not
only the partial answer as the last turn, for the model to extend (a
"prefill")? Gemini does not reliably take a conversation that ends on its own
turn: some models and settings refuse it, and thinking models start a fresh
reply. A closing user turn is the one shape every provider takes the same way,
Gemini and the local model's chat template alike (roles still alternate). The
instruction asks for the next characters only, so that the continuation joins
the text as it stands; `joined` puts them together.
"""

from dataclasses import replace

from langchain_core.messages import HumanMessage

from app.providers.ending import Usage, added_modalities

CONTINUE_INSTRUCTION = (
    "Your previous answer was cut off at the length limit. Continue exactly where you stopped, "
    "starting with the very next characters, without repeating anything or adding any preamble."
)


def continue_instruction():
    return HumanMessage(content=CONTINUE_INSTRUCTION)


def joined(earlier, finished):
    """The answer that `finished` (a reply_pipeline.Finished of the model call
    that continued it) makes of `earlier` (queries.Reopened; None: it
    continued nothing): the texts and thoughts one after the other, and the
    tokens and seconds of both calls, so that the answer's cost and its
    tokens per second count all of it. (Its time to the first words stays the
    continuation's: the pieces of the first call are not kept.)"""
    if earlier is None:
        return finished
    return replace(finished, text=earlier.text + finished.text,
                   thoughts=earlier.thoughts + (finished.thoughts or ""),
                   usage=_added(earlier.usage, finished.usage), seconds=earlier.seconds + finished.seconds)


def _added(first, second):
    if first is None or second is None:
        return second or first
    reasoning = None
    if first.reasoning_tokens is not None or second.reasoning_tokens is not None:
        reasoning = (first.reasoning_tokens or 0) + (second.reasoning_tokens or 0)
    return Usage(first.input_tokens + second.input_tokens, first.output_tokens + second.output_tokens, reasoning,
                 added_modalities(first.input_by_modality, second.input_by_modality))
