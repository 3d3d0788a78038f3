"""The first visit's greeting names the model that answers, in words: Gemini
by its model's name, the offline model as running here, the test model as
what it is; a conversation with messages has no greeting."""

from app.config import Config
from app.web.greeting import EXAMPLE_PROMPTS, answerer


def test_each_provider_is_named_in_words():
    gemini = answerer(Config(provider="vertexai", model="gemini-2.5-pro"))
    assert (gemini.who, gemini.model, gemini.note) == ("Google Gemini", "gemini-2.5-pro", "")
    local = answerer(Config(provider="local", model="qwen2.5-coder-1.5b-instruct (Q4_K_M, llama.cpp)"))
    assert local.who == "the offline model" and "not sent to Google" in local.note
    assert answerer(Config(provider="fake", model="fake-echo")).who == "a test model that repeats your message"


def test_the_empty_page_greets_with_three_prompts_and_a_conversation_does_not(make_app):
    client = make_app().test_client()
    page = client.get("/").get_data(as_text=True)
    assert "What can I help with?" in page and "(<strong>fake-echo</strong>)" in page
    assert len(EXAMPLE_PROMPTS) == 3
    for prompt in EXAMPLE_PROMPTS:
        assert f'form="composer" name="message" value="{prompt}"' in page
    sent = client.post("/messages", data={"message": EXAMPLE_PROMPTS[0]})  # as the button does without JavaScript
    assert sent.status_code == 303
    conversation = client.get(sent.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert "What can I help with?" not in conversation and EXAMPLE_PROMPTS[0] in conversation
