"""Estimated prices on the page: each answer's, and its conversation's total
(app/answers/prices.py has the table and says where it comes from)."""

from flask import current_app

from app.answers import generation
from app.answers.prices import format_usd, model_name_of


def price_table():
    return generation.price_table(current_app)


def answer_cost_usd(message):
    """An answer's estimated cost in USD, or None if it cannot be told."""
    if message.role != "assistant":
        return None
    return price_table().estimate(model_name_of(message.model or ""), message.usage, grounded=bool(message.grounding))


def answer_cost(message):
    """An answer's estimated cost as shown ("$0.0012"), or ""."""
    cost = answer_cost_usd(message)
    return "" if cost is None else format_usd(cost)


def conversation_cost(messages):
    """The estimated total of the answers whose cost can be told, or ""."""
    costs = [cost for cost in map(answer_cost_usd, messages) if cost is not None]
    return format_usd(sum(costs)) if costs else ""
