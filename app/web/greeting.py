"""What an empty conversation says to a person who has just arrived: what
this is, which model answers, and three example prompts to start with.

The prompts are buttons of the composer's form (templates/_greeting.html):
keyboard.js puts the one clicked in the box and sends it, as ChatGPT and
the Gemini app do; without JavaScript the button itself submits the form,
carrying its prompt as the message.
"""

from dataclasses import dataclass

from flask import current_app

# Three kinds of things people ask first: to understand, to make, to plan.
EXAMPLE_PROMPTS = (
    "Explain how a vaccine teaches the immune system, in simple words",
    "Write a Python function that tells whether a word is a palindrome",
    "Plan a relaxed three-day trip to Lisbon",
)


@dataclass(frozen=True)
class Answerer:
    """Who answers, in words: "Google Gemini" and the model's name."""

    who: str
    model: str
    note: str = ""  # what a person should know about it


def answerer(config):
    if config.provider == "vertexai":
        return Answerer("Google Gemini", config.model)
    if config.provider == "local":
        return Answerer("the offline model", config.model,
                        "It runs on this server: what you type is not sent to Google or anyone else.")
    return Answerer("a test model that repeats your message", config.model)


def greeting():
    """The greeting's words for this server's default model."""
    return {"answerer": answerer(current_app.config["CHAT"]), "prompts": EXAMPLE_PROMPTS}
