"""How an answer ended, on the page and in what the model is sent next:
truncated and blocked answers say so, keep their text, offer Retry and show
what they cost; a blocked exchange is not sent to the model again."""

import html

from tests.page_flow import final_html, send
from tests.scripted_model import ScriptedChatModel

USAGE = {"input_tokens": 412, "output_tokens": 1038, "total_tokens": 2070, "output_token_details": {"reasoning": 620}}


def ends_with(make_app, finish_reason, pieces=("Some ", "text"), usage=None):
    model = ScriptedChatModel(pieces=list(pieces), finish_reason=finish_reason, usage=usage)
    client = make_app(chat_model=model).test_client()
    conversation_id, body = send(client, "hello")
    return client, model, conversation_id, final_html(body)


def test_an_answer_cut_at_the_length_limit_says_so_keeps_its_text_and_offers_retry(make_app):
    _client, _model, _id, final = ends_with(make_app, "MAX_TOKENS", usage=USAGE)
    assert "outcome-truncated" in final and "Some text" in final
    assert "The answer was cut off here: it reached the model's length limit." in html.unescape(final)
    assert ">Retry</button>" in final
    assert "412 in · 1,038 out (620 thinking)" in final


def test_a_blocked_answer_says_so_with_its_category_in_words(make_app):
    model = ScriptedChatModel(pieces=["Some ", "text"], finish_reason="SAFETY")
    client = make_app(chat_model=model).test_client()
    _id, body = send(client, "hello")
    final = final_html(body)
    assert "outcome-blocked" in final and "Some text" in final and ">Retry</button>" in final
    assert "Gemini's safety filters declined this answer. Try rephrasing it." in html.unescape(final)
    assert "Answer blocked by Gemini" in html.unescape(body), "the screen reader hears it"


def test_a_complete_answer_shows_its_usage_with_its_speed(make_app):
    _client, _model, _id, final = ends_with(make_app, "STOP", usage=USAGE)
    assert "outcome-complete" in final and ">Regenerate</button>" in final
    assert "first words after" in final and "412 in · 1,038 out (620 thinking)" in final


def test_a_blocked_exchange_is_not_sent_to_the_model_again(make_app):
    model = ScriptedChatModel(pieces=["answer"], finish_reason="STOP")
    client = make_app(chat_model=model).test_client()
    conversation_id, _body = send(client, "first question")
    model.finish_reason = "PROHIBITED_CONTENT"
    model.pieces = [""]
    send(client, "the refused question", conversation_id)
    model.finish_reason, model.pieces = "STOP", ["fine"]
    send(client, "third question", conversation_id)
    sent = [message.text for message in model.received[-1]]
    assert sent == ["first question", "answer", "third question"]
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "the refused question" in page, "the transcript keeps it"
