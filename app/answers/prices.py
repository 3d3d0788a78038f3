"""What an answer cost, estimated from its tokens and a price table.

Prices are Vertex AI's list prices in USD, standard (not batch, not cached)
usage, from https://cloud.google.com/vertex-ai/generative-ai/pricing as
published for the Gemini 2.5 models (checked against the table on
2026-12-01): per 1M tokens of input and of output, and per 1,000 grounded
prompts for Grounding with Google Search (the free daily allowance is not
counted). Gemini 2.5 Pro costs more for prompts over 200K tokens. Thinking
tokens are billed as output. Images, video and documents are billed as input
tokens at the input price; audio input has its own price for 2.5 Flash and
Flash-Lite ("audio_input", the same page's "Audio" input row; 2.5 Pro charges
all input alike): checked 2026-12-07 against copies of that table, as this
machine cannot open the page itself, so re-check there before relying on it.
An answer's tokens by modality are Gemini's `promptTokensDetails`. An operator with other prices (another region,
a discount, a newer model) sets CHAT_PRICES, which replaces entries by model.

It is an estimate: the page and the API say so.
"""

from dataclasses import dataclass

SOURCE = "https://cloud.google.com/vertex-ai/generative-ai/pricing"
LONG_PROMPT_TOKENS = 200_000

PRICES = {
    "gemini-2.5-pro": {"input": 1.25, "output": 10.00, "search": 35.00},
    "gemini-2.5-flash": {"input": 0.30, "audio_input": 1.00, "output": 2.50, "search": 35.00},
    "gemini-2.5-flash-lite": {"input": 0.10, "audio_input": 0.30, "output": 0.40, "search": 35.00},
}
# Prompts over LONG_PROMPT_TOKENS, where the price differs.
LONG_PROMPT_PRICES = {
    "gemini-2.5-pro": {"input": 2.50, "output": 15.00, "search": 35.00},
}


@dataclass(frozen=True)
class PriceTable:
    prices: dict
    long_prompt_prices: dict

    @classmethod
    def from_config(cls, config):
        """The built-in table with CHAT_PRICES' entries in place of its own (an
        operator's price holds for every prompt length)."""
        overrides = dict(config.prices)
        long_prices = {model: entry for model, entry in LONG_PROMPT_PRICES.items() if model not in overrides}
        return cls({**PRICES, **overrides}, long_prices)

    def estimate(self, model_name, usage, grounded=False):
        """USD for one answer, or None when its model's price or its tokens are unknown."""
        if usage is None:
            return None
        prices = self.prices.get(model_name)
        if usage.input_tokens > LONG_PROMPT_TOKENS:
            prices = self.long_prompt_prices.get(model_name, prices)
        if prices is None:
            return None
        output = usage.output_tokens + (usage.reasoning_tokens or 0)
        # Audio at its own price where the model has one; the rest of the input at the input price.
        audio = min(usage.input_tokens_of("audio"), usage.input_tokens)
        input_price = prices.get("input", 0)
        input_cost = (usage.input_tokens - audio) * input_price + audio * prices.get("audio_input", input_price)
        cost = (input_cost + output * prices.get("output", 0)) / 1_000_000
        if grounded:
            cost += prices.get("search", 0) / 1000
        return cost


def model_name_of(label):
    """The model's name in an answer's label ("Gemini · gemini-2.5-pro")."""
    return label.rpartition(" · ")[2]


def format_usd(cost):
    """In cents, as a person reads a price: "$0.03", "$1,250.00"; a cheaper
    one is "< $0.01" (an estimate to a millionth of a dollar says more than
    is known, and nobody pays it)."""
    if cost <= 0:
        return "$0"
    if cost < 0.01:
        return "< $0.01"
    return f"${cost:,.2f}"
