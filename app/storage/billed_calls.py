"""The record of what the model was asked for and billed: one row per answer,
written in the transaction that saves how it ended, kept when its messages
and its conversation are deleted (Regenerate, Edit, Delete), so the
operator's usage report (app/auth/people.py's usage) cannot be erased by the
person it reports on."""

from app.storage import driver_sql
from app.storage.models import utcnow

_RECORD = """
    INSERT INTO billed_calls (owner_id, conversation_id, answer_id, model, outcome, input_tokens, output_tokens,
                              reasoning_tokens, grounded, cost_usd, at)
    VALUES (:owner_id, :conversation_id, :answer_id, :model, :outcome, :input_tokens, :output_tokens,
            :reasoning_tokens, :grounded, :cost_usd, :at)"""


def was_billed(finished):
    """Whether an ended answer (a reply_pipeline.Finished) reached the model:
    it reported its tokens, or it wrote or thought something (a Stop, a
    failure midway: billed for what was generated, tokens unknown). An answer
    refused before its first piece (a 429, a timeout) cost nothing."""
    return finished.usage is not None or finished.pieces > 0 or bool(finished.thoughts)


def record(connection, owner_id, conversation_id, answer_id, model, finished, cost_usd):
    """Record `finished` as billed to `owner_id`, if it was (`was_billed`).
    `conversation_id`/`answer_id`: None for a request-bound API answer.
    `connection`: a Core connection in a transaction."""
    if not was_billed(finished):
        return
    usage = finished.usage
    driver_sql.run(connection, _RECORD, {
        "owner_id": owner_id, "conversation_id": conversation_id, "answer_id": answer_id, "model": model,
        "outcome": finished.outcome,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "grounded": bool(finished.grounding), "cost_usd": cost_usd, "at": driver_sql.timestamp(connection, utcnow()),
    })
