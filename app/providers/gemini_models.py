"""What a person is told about each Gemini model, and whether its thinking
may be switched per message.

The model picker shows a short label and a hint beside the id ("Gemini 2.5
Flash — fast, everyday questions (gemini-2.5-flash)"); an id not listed here
(a newer model the operator put in CHAT_MODELS) is shown as the id itself.

Thinking (Gemini's docs, "Thinking"): 2.5 Pro always thinks (a budget of 0
is refused, so its switch is off-limits); 2.5 Flash thinks by default and
may be told not to (budget 0); 2.5 Flash-Lite thinks only when asked (a
budget other than 0). A message's switch becomes that answer's
thinking_budget: -1 (the model decides how much) when on, 0 when off.
"""

from dataclasses import dataclass

THINKING_ALWAYS = "always"  # the model thinks; the switch cannot turn it off
THINKING_OPTIONAL = "optional"  # the switch decides
# A model not listed: its thinking is left to its defaults, no switch offered.
THINKING_UNKNOWN = "unknown"

DYNAMIC_BUDGET = -1  # the model decides how long it thinks
NO_THINKING = 0


@dataclass(frozen=True)
class GeminiModel:
    label: str
    hint: str
    thinking: str
    thinks_by_default: bool


MODELS = {
    "gemini-2.5-flash": GeminiModel("Gemini 2.5 Flash", "fast, everyday questions", THINKING_OPTIONAL, True),
    "gemini-2.5-pro": GeminiModel("Gemini 2.5 Pro", "deeper reasoning, slower", THINKING_ALWAYS, True),
    "gemini-2.5-flash-lite": GeminiModel("Gemini 2.5 Flash-Lite", "quickest, cheapest", THINKING_OPTIONAL, False),
}


def picker_label(name):
    """The picker's words for model id `name`."""
    model = MODELS.get(name)
    if model is None:
        return name
    return f"{model.label} — {model.hint} ({name})"


def thinking_mode(name):
    model = MODELS.get(name)
    return model.thinking if model is not None else THINKING_UNKNOWN


def thinks_by_default(name):
    model = MODELS.get(name)
    return model.thinks_by_default if model is not None else True


def may_switch_thinking(name):
    return thinking_mode(name) == THINKING_OPTIONAL


class ThinkingRefused(ValueError):
    """A message asked not to think of a model that always thinks."""


def thinking_budget_for(name, think, default_budget=None):
    """The thinking_budget one answer of model `name` asks for: `think` is
    the message's switch (None: not given, so `default_budget`,
    CHAT_THINKING_BUDGET, or the model's own default when that is None).
    ThinkingRefused for `think=False` on a model that cannot stop thinking."""
    if think is None:
        return default_budget
    if think:
        # An operator's positive budget stays the ceiling; otherwise dynamic.
        return default_budget if default_budget and default_budget > 0 else DYNAMIC_BUDGET
    mode = thinking_mode(name)
    if mode == THINKING_ALWAYS:
        raise ThinkingRefused(f"{MODELS[name].label} always thinks before answering; "
                              "choose another model to answer without thinking.")
    if mode == THINKING_UNKNOWN:
        raise ThinkingRefused(f"Thinking cannot be turned off for {name} here.")
    return NO_THINKING


def thinking_hint(name):
    """Beside the switch: why it cannot be changed for this model ("" where it can)."""
    mode = thinking_mode(name)
    if mode == THINKING_ALWAYS:
        return f"{MODELS[name].label} always thinks"
    if mode == THINKING_UNKNOWN:
        return "This model decides when to think"
    return ""



def with_thinking(model, budget):
    """`model` itself for None (its own setting), else a copy that thinks
    with `budget` for one answer (sharing its client and connections, as
    request_settings.with_sampling does); thought summaries are asked for
    only when it may think. A model without these fields is returned as it is
    (the switch is offered for Gemini only)."""
    fields = type(model).model_fields if hasattr(type(model), "model_fields") else {}
    if budget is None or "thinking_budget" not in fields:
        return model
    return model.model_copy(update={"thinking_budget": budget, "include_thoughts": budget != NO_THINKING})
