"""The choices a model cannot honour are not offered (here the fake model,
standing for the local one), the settings that configure them, and the
pure parts: prices, citation markers, stored grounding."""

import pytest

from app.answers.prices import PriceTable, format_usd
from app.config import ConfigError, load_config
from app.providers.ending import Usage
from app.providers.grounding import Grounding, Source, Support
from app.rendering.citations import cite

BASE = {"CHAT_DEBUG": "1"}


def test_the_local_model_offers_no_search_and_no_model_choice(make_app):
    page = make_app().test_client().get("/").get_data(as_text=True)
    assert "Search Google" not in page and 'name="search"' not in page
    assert 'name="model"' not in page
    assert 'name="instructions"' in page, "instructions work with any model"


@pytest.mark.parametrize("body, says", [
    ({"search": True}, "Google Search grounding is not available"),
    ({"thinking": True}, "Thinking is not available"),
    ({"search": "maybe"}, "search must be true or false"),
    ({"model": "gemini-2.5-pro"}, "choose one of: fake-echo"),
    ({"instructions": 42}, "The instructions must be text"),
])
def test_the_api_refuses_what_this_model_cannot_do_with_a_clear_400(make_app, body, says):
    reply = make_app().test_client().post("/api/chat", json={"message": "hi", **body})
    assert reply.status_code == 400 and says in reply.json["error"]


def test_instructions_reach_the_local_models_prompt_as_its_setting(make_app):
    from app.answers.model_history import to_chat_messages
    from app.providers.local import format_prompt

    prompt = format_prompt(to_chat_messages([("user", "hi")], "Answer in rhymes."))
    assert "Answer in rhymes.\n\nUser: hi\nAssistant:" in prompt
    assert "User: Answer in rhymes." not in prompt


@pytest.mark.parametrize("env, says", [
    ({"CHAT_SEARCH": "always"}, "needs Gemini"),
    ({"CHAT_SEARCH": "sometimes", "GOOGLE_CLOUD_PROJECT": "p"}, "off, optional or always"),
    ({"CHAT_THINKING_BUDGET": "100"}, "does not think"),
    ({"CHAT_MODELS": "a,b"}, "the local model is one"),
    ({"GOOGLE_CLOUD_PROJECT": "p", "CHAT_MODELS": "a,b", "CHAT_MODEL": "c"}, "not among CHAT_MODELS"),
    ({"CHAT_PRICES": "{nope"}, "must be JSON"),
    ({"CHAT_PRICES": '{"m": {"input": -1}}'}, "CHAT_PRICES['m']"),
    ({"CHAT_PRICES": '{"m": {"inptu": 1}}'}, "named input, audio_input, output, search"),
])
def test_settings_that_cannot_work_stop_start_up_with_one_line(env, says):
    with pytest.raises(ConfigError) as error:
        load_config({**BASE, **env})
    assert says in str(error.value)


def test_gemini_defaults_offer_search_and_the_first_listed_model():
    config = load_config({**BASE, "GOOGLE_CLOUD_PROJECT": "p", "CHAT_MODELS": "gemini-2.5-pro,gemini-2.5-flash"})
    assert (config.model, config.search, config.shows_thinking) == ("gemini-2.5-pro", "optional", True)


def test_prices_count_thinking_as_output_long_prompts_and_search():
    table = PriceTable.from_config(load_config(BASE))
    assert table.estimate("gemini-2.5-flash", Usage(1_000_000, 500_000, 500_000)) == pytest.approx(0.30 + 2.50)
    assert table.estimate("gemini-2.5-pro", Usage(300_000, 0, 0)) == pytest.approx(0.75), "over 200K: $2.50/M"
    assert table.estimate("gemini-2.5-flash", Usage(0, 0), grounded=True) == pytest.approx(0.035)
    assert table.estimate("gemma", Usage(1, 1)) is None and table.estimate("gemini-2.5-pro", None) is None
    assert [format_usd(c) for c in (0, 0.000042, 0.0123, 1.5, 1234.5)] == ["$0", "< $0.01", "$0.01", "$1.50", "$1,234.50"]


def test_markers_land_after_the_supported_bytes_and_the_models_own_characters_stay_text():
    text = "😀 One. Two.\ue000 Three."
    one_end = len("😀 One.".encode())
    two_end = len("😀 One. Two.\ue000".encode())
    grounding = Grounding((Source("https://a.example/", "A"),), (Support(one_end, (0,)), Support(two_end, (0,)),
                                                                 Support(10_000, (0,))))
    linked = cite(f"<p>{text}</p>", text, grounding)
    mark = linked[linked.index("<sup"):linked.index("</sup>") + 6]
    assert linked == f"<p>😀 One.{mark} Two.\ue000{mark} Three.</p>"


def test_stored_grounding_round_trips_and_foreign_json_is_ignored():
    grounding = Grounding((Source("https://a/", "A", "a"),), (Support(3, (0,)),), ("q",))
    assert Grounding.from_json(grounding.to_json()) == grounding
    assert Grounding.from_json('{"unexpected": 1}') is None and Grounding.from_json(None) is None
