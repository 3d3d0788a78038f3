"""Billing for answers that live only as long as their request (the API with
its own history, /v1): they have no stored answer whose end records the call
(generation.record_billed_call), so the request records it as it ends."""

import logging

from app.answers.generation import price_table
from app.storage import billed_calls

log = logging.getLogger(__name__)


def bill_when_finished(app, owner_id, model_name):
    """An `on_finish` for stream_reply that records the call for the
    operator's usage report under `owner_id` (no conversation, no answer)."""
    def record(finished):
        cost = price_table(app).estimate(model_name, finished.usage, grounded=bool(finished.grounding))
        try:
            with app.extensions["db_engine"].begin() as connection:
                billed_calls.record(connection, owner_id, None, None, model_name, finished, cost)
        except Exception:  # noqa: BLE001 - the person still gets the answer's end
            log.exception("could not record a billed call for %s", model_name)
    return record
