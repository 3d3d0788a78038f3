"""A long conversation with files, through Flask's client: what the model is
not sent (the oldest messages past the history limit, an earlier file past
one request's bytes) is said in the answer's bubble, kept with the answer
for a reload, and answered by the JSON API."""

import re

from app.providers.left_out import file_left_out_note
from tests.attachments.test_attachment_routes import answered, conversation_of, send_with_files
from tests.conftest import API_KEY, api_client
from tests.page_flow import final_html
from tests.scripted_model import ScriptedChatModel

# One file of at most 1,000 bytes a message: what one request carries.
SMALL_FILES = {"attachment_max_mb": 0.001, "attachments_per_message": 1}
SAID = ("The oldest message was not sent to the model (it does not fit its context). "
        "old.txt from an earlier message was not sent (too large together with the newer files).")


def exchange(client, message, files, conversation_id=""):
    """(conversation id, the answer's whole stream) for a message with `files`."""
    html, stream = answered(client, send_with_files(client, message, files, conversation_id))
    return conversation_of(html), stream


def test_what_the_model_was_not_sent_is_said_in_the_bubble_and_after_a_reload(make_app):
    model = ScriptedChatModel(pieces=["Noted."])
    app = make_app(chat_model=model, history_max_turns=4, **SMALL_FILES)
    client = app.test_client()
    conversation_id, first = exchange(client, "first", [("first.txt", b"f" * 10)])
    assert "not sent" not in final_html(first), "the whole conversation went"
    exchange(client, "second", [("old.txt", b"o" * 800)], conversation_id)
    _, third = exchange(client, "third", [("new.txt", b"n" * 600)], conversation_id)

    # The model got the last four turns; old.txt's 800 bytes did not fit
    # beside the newest file's 600, so its question names it instead.
    sent = model.received[-1]
    assert [m.type for m in sent] == ["ai", "human", "ai", "human"]
    assert sent[1].content == "second\n\n" + file_left_out_note("old.txt")
    assert sent[3].content.endswith("n" * 600)

    assert f'<p class="notice left-out">{SAID}</p>' in final_html(third)
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    notes = re.findall(r'<p class="notice left-out">([^<]*)</p>', page)
    assert notes == [SAID], "only the third answer left anything out, and it says so after a reload"


def test_the_json_api_answers_what_was_left_out(make_app):
    app = make_app(history_max_turns=2, api_keys=(API_KEY,))
    client = api_client(app)
    history = [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
               {"role": "user", "content": "three"}, {"role": "assistant", "content": "four"}]
    reply = client.post("/api/chat", json={"message": "five", "history": history}).get_json()
    assert reply["left_out"] == {
        "messages": 3, "files": [],
        "note": "The 3 oldest messages were not sent to the model (they do not fit its context).",
    }

    started = client.post("/api/chat", json={"message": "hello", "conversation_id": "new"}).get_json()
    assert started["left_out"] is None
    follow_up = client.post("/api/chat", json={"message": "again", "conversation_id": started["conversation_id"]})
    assert follow_up.get_json()["left_out"]["note"] == (
        "The oldest message was not sent to the model (it does not fit its context).")
