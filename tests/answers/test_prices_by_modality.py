"""What an answer cost when its input held images, audio or video: Gemini
bills them as input tokens, audio at its own price for 2.5 Flash and
Flash-Lite (app/answers/prices.py), and an operator's CHAT_PRICES can set it."""

import json

import pytest

from app.answers.prices import PriceTable
from app.config import ConfigError, load_config
from app.providers.ending import Usage

BASE = {"CHAT_DEBUG": "1"}
MILLION = 1_000_000


def table(**env):
    return PriceTable.from_config(load_config({**BASE, **env}))


def test_audio_input_is_priced_at_the_audio_price_and_the_rest_at_the_input_price():
    usage = Usage(100_000, 0, None, (("text", 40_000), ("image", 10_000), ("audio", 50_000)))
    # 2.5 Flash: $0.30/M for text, images and video, $1.00/M for audio.
    assert table().estimate("gemini-2.5-flash", usage) == pytest.approx(0.05 * 0.30 + 0.05 * 1.00)
    # Flash-Lite: $0.10/M and $0.30/M for audio.
    assert table().estimate("gemini-2.5-flash-lite", usage) == pytest.approx(0.05 * 0.10 + 0.05 * 0.30)
    # 2.5 Pro charges all input alike.
    assert table().estimate("gemini-2.5-pro", usage) == pytest.approx(0.1 * 1.25)


def test_images_and_video_cost_what_text_does():
    media = Usage(MILLION, 0, None, (("text", 10), ("image", 258), ("video", MILLION - 268)))
    assert table().estimate("gemini-2.5-flash", media) == table().estimate("gemini-2.5-flash", Usage(MILLION, 0))


def test_a_long_pro_prompt_with_audio_takes_the_long_prompt_price():
    usage = Usage(300_000, 0, None, (("audio", 300_000),))
    assert table().estimate("gemini-2.5-pro", usage) == pytest.approx(0.75), "over 200K: $2.50/M, audio alike"


def test_an_operators_audio_price_is_used_and_without_one_audio_costs_the_input_price():
    usage = Usage(MILLION, 0, None, (("audio", MILLION),))
    prices = table(CHAT_PRICES=json.dumps({"gemini-2.5-flash": {"input": 0.5, "audio_input": 2.0},
                                           "gemini-2.5-flash-lite": {"input": 0.2}}))
    assert prices.estimate("gemini-2.5-flash", usage) == pytest.approx(2.0)
    assert prices.estimate("gemini-2.5-flash-lite", usage) == pytest.approx(0.2)


def test_an_unknown_price_name_is_still_refused():
    with pytest.raises(ConfigError, match="audio_input"):
        load_config({**BASE, "CHAT_PRICES": json.dumps({"gemini-2.5-flash": {"audio": 1.0}})})
