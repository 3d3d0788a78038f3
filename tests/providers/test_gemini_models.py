"""Gemini's models in words, and what a message's Thinking switch asks of
each (app/providers/gemini_models.py)."""

import pytest

from app.providers.gemini_models import (
    DYNAMIC_BUDGET, NO_THINKING, ThinkingRefused, may_switch_thinking, picker_label, thinking_budget_for,
    thinking_hint, thinks_by_default,
)


def test_the_picker_names_each_model_with_a_short_label_and_a_hint_beside_its_id():
    assert picker_label("gemini-2.5-flash") == "Gemini 2.5 Flash — fast, everyday questions (gemini-2.5-flash)"
    assert picker_label("gemini-2.5-pro") == "Gemini 2.5 Pro — deeper reasoning, slower (gemini-2.5-pro)"
    assert picker_label("gemini-2.5-flash-lite") == \
        "Gemini 2.5 Flash-Lite — quickest, cheapest (gemini-2.5-flash-lite)"


def test_a_model_it_does_not_know_is_named_by_its_id():
    assert picker_label("gemini-3.0-ultra-preview") == "gemini-3.0-ultra-preview"
    assert picker_label("qwen2.5-0.5b-instruct") == "qwen2.5-0.5b-instruct"


def test_flash_thinks_unless_told_not_to():
    assert may_switch_thinking("gemini-2.5-flash") and thinks_by_default("gemini-2.5-flash")
    assert thinking_budget_for("gemini-2.5-flash", True) == DYNAMIC_BUDGET
    assert thinking_budget_for("gemini-2.5-flash", False) == NO_THINKING
    assert thinking_hint("gemini-2.5-flash") == ""


def test_flash_lite_thinks_only_when_asked():
    assert may_switch_thinking("gemini-2.5-flash-lite") and not thinks_by_default("gemini-2.5-flash-lite")
    assert thinking_budget_for("gemini-2.5-flash-lite", True) == DYNAMIC_BUDGET
    assert thinking_budget_for("gemini-2.5-flash-lite", False) == NO_THINKING


def test_pro_always_thinks_and_its_switch_cannot_turn_it_off():
    assert not may_switch_thinking("gemini-2.5-pro") and thinks_by_default("gemini-2.5-pro")
    assert thinking_budget_for("gemini-2.5-pro", True) == DYNAMIC_BUDGET
    with pytest.raises(ThinkingRefused, match="Gemini 2.5 Pro always thinks"):
        thinking_budget_for("gemini-2.5-pro", False)
    assert thinking_hint("gemini-2.5-pro") == "Gemini 2.5 Pro always thinks"


def test_an_unknown_model_keeps_its_own_way():
    assert not may_switch_thinking("gemini-9")
    with pytest.raises(ThinkingRefused):
        thinking_budget_for("gemini-9", False)
    assert thinking_budget_for("gemini-9", True) == DYNAMIC_BUDGET


def test_no_switch_leaves_the_operators_budget_and_on_keeps_a_positive_one_as_the_ceiling():
    assert thinking_budget_for("gemini-2.5-flash", None) is None
    assert thinking_budget_for("gemini-2.5-flash", None, 2048) == 2048
    assert thinking_budget_for("gemini-2.5-flash", True, 2048) == 2048
    assert thinking_budget_for("gemini-2.5-flash", True, -1) == DYNAMIC_BUDGET
    assert thinking_budget_for("gemini-2.5-flash", False, 2048) == NO_THINKING
