"""The stats line under an answer, in words a person reads: tokens per second
over the whole answer (never thousands of "pieces/s" when the pieces came
back to back), and prices in cents ("< $0.01", "$0.03")."""

import html
import re
from types import SimpleNamespace

from app.answers.prices import format_usd
from app.providers.ending import Usage
from app.web.answer_stats import answer_stats
from tests.web.test_outcomes import ends_with

USAGE = {"input_tokens": 412, "output_tokens": 1038, "total_tokens": 2070, "output_token_details": {"reasoning": 620}}


def message(**fields):
    values = {"first_piece_seconds": None, "answer_seconds": None, "usage": None, "role": "user"}
    return SimpleNamespace(**{**values, **fields})


def test_speed_is_output_tokens_over_the_whole_answer_even_when_pieces_come_back_to_back():
    # 500 tokens, the first piece after 2 s and every other piece a
    # millisecond later: 500 / 2.001 s, not 499 pieces / 0.001 s.
    stats = answer_stats(message(first_piece_seconds=2.0, answer_seconds=2.001, usage=Usage(30, 500)))
    assert stats.parts == ("first words after 2.00 s", "250 tokens/s", "30 in · 500 out")


def test_a_slow_answer_reads_with_one_decimal_and_long_waits_in_whole_seconds():
    stats = answer_stats(message(first_piece_seconds=12.4, answer_seconds=80.0, usage=Usage(30, 500, 120)))
    assert stats.parts == ("first words after 12 s", "6.2 tokens/s", "30 in · 500 out (120 thinking)")


def test_without_a_token_count_the_line_says_how_long_the_answer_took():
    stats = answer_stats(message(first_piece_seconds=0.25, answer_seconds=3.5))
    assert stats.parts == ("first words after 0.25 s", "done in 3.50 s")
    assert answer_stats(message()) is None


def test_prices_are_rounded_to_cents():
    assert [format_usd(c) for c in (0.000004, 0.0049, 0.031, 0.8, 1234.567)] == [
        "< $0.01", "< $0.01", "$0.03", "$0.80", "$1,234.57"]


def test_the_page_shows_the_rate_of_an_answer_streamed_back_to_back(make_app):
    # The scripted model yields its pieces with no wait between them.
    _client, _model, _id, final = ends_with(make_app, "STOP", pieces=["piece "] * 200, usage=USAGE)
    stats = re.sub(r"\s+", " ", html.unescape(re.search(r'<span class="stats">(.*?)</span>\s*</div>', final, re.S)[1]))
    assert "pieces/s" not in stats
    rate = float(re.search(r"· ([\d,.]+) tokens/s", stats)[1].replace(",", ""))
    assert 0 < rate, stats
    assert re.match(r"first words after \d+\.\d\d s · [\d,.]+ tokens/s · 412 in · 1,038 out \(620 thinking\)$", stats)


def test_the_input_says_which_of_its_tokens_were_images_audio_or_video():
    usage = Usage(1200, 300, None, (("text", 942), ("image", 258)))
    assert answer_stats(message(usage=usage)).parts == ("1,200 in (258 image) · 300 out",)
    usage = Usage(5200, 300, 40, (("text", 100), ("image", 258), ("audio", 4842)))
    assert answer_stats(message(usage=usage)).parts == ("5,200 in (258 image, 4,842 audio) · 300 out (40 thinking)",)
    # Text alone, as Gemini also counts it, says nothing more.
    assert answer_stats(message(usage=Usage(30, 5, None, (("text", 30),)))).parts == ("30 in · 5 out",)
