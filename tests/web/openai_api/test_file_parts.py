"""OpenAI's `file` and `input_audio` content parts on the fake (offline)
model: what it can read reaches it as text, the rest is refused with the
page's own messages and limits, before the model is asked."""

import base64

import pytest
from pypdf import PdfWriter

from tests.scripted_model import ScriptedChatModel


def b64(data):
    return base64.b64encode(data).decode()


def ask_with(*parts, text="What is in it?"):
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": text}, *parts]}]}


def file_part(data, filename=None, mime_type=None):
    file = {"file_data": f"data:{mime_type};base64,{b64(data)}" if mime_type else b64(data)}
    if filename:
        file["filename"] = filename
    return {"type": "file", "file": file}


def blank_pdf():
    writer, out = PdfWriter(), __import__("io").BytesIO()
    writer.add_blank_page(width=72, height=72)
    writer.write(out)
    return out.getvalue()


def test_a_text_file_reaches_the_offline_model_as_its_text(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    client = make_app(chat_model=model).test_client()
    parts = [file_part(b"milk, eggs, bread", "list.txt"), file_part(b"# Plan\n- walk", mime_type="text/markdown")]
    response = client.post("/v1/chat/completions", json=ask_with(*parts))
    assert response.status_code == 200, response.get_json()
    assert model.received[0][-1].text == ("What is in it?\n\n--- Attached file: list.txt ---\nmilk, eggs, bread"
                                          "\n\n--- Attached file: file.md ---\n# Plan\n- walk")


def test_a_pdf_is_read_through_its_text_offline(make_app):
    model = ScriptedChatModel(pieces=["ok"])
    client = make_app(chat_model=model).test_client()
    response = client.post("/v1/chat/completions", json=ask_with(file_part(blank_pdf(), "report.pdf")))
    assert response.status_code == 200
    assert "--- Attached file: report.pdf ---\n[page 1]" in model.received[0][-1].text


@pytest.mark.parametrize(("part", "status", "words"), [
    ({"type": "input_audio", "input_audio": {"data": b64(b"RIFF0000WAVE"), "format": "wav"}}, 415,
     "the offline model reads text only"),
    ({"type": "input_audio", "input_audio": {"data": b64(b"x"), "format": "ogg"}}, 400, "must be one of: mp3, wav"),
    ({"type": "file", "file": {"file_id": "file-abc123"}}, 400, "Files API) are not offered"),
    ({"type": "file", "file": {"file_data": b64(b"MZ\x90\x00"), "filename": "setup.exe"}}, 415,
     "that type of file cannot be attached"),
    ({"type": "file", "file": {"file_data": b64(b"hello")}}, 400, "needs a filename"),
    ({"type": "file", "file": {"file_data": "not base64!", "filename": "a.txt"}}, 400, "data is not base64"),
    ({"type": "file", "file": {"file_data": f"data:application/pdf;base64,{b64(b'hello')}", "filename": "a.txt"}},
     400, "does not match the file's name"),
    ({"type": "file", "file": {"file_data": b64(b"not a pdf"), "filename": "a.pdf"}}, 415, "is not a PDF file"),
    ({"type": "file", "file": "report.pdf"}, 400, ".file must be an object"),
])
def test_a_file_the_model_cannot_take_is_refused_before_it_is_asked(make_app, part, status, words):
    model = ScriptedChatModel(pieces=["ok"])
    response = make_app(chat_model=model).test_client().post("/v1/chat/completions", json=ask_with(part))
    assert response.status_code == status
    error = response.get_json()["error"]
    assert words in error["message"] and error["param"] == "messages[0].content[1]"
    assert model.received == []


def test_the_pages_limits_hold_a_file_too_large_and_too_many_files(make_app):
    app = make_app(attachment_max_mb=0.001, attachments_per_message=2)
    too_large = app.test_client().post("/v1/chat/completions", json=ask_with(file_part(b"x" * 1001, "big.txt")))
    assert too_large.status_code == 413
    assert "the limit is 0.001 MB per file" in too_large.get_json()["error"]["message"]
    three = [file_part(b"a", f"{n}.txt") for n in range(3)]
    too_many = app.test_client().post("/v1/chat/completions", json=ask_with(*three))
    assert too_many.status_code == 413
    assert too_many.get_json()["error"]["message"] == "That is 3 files; a message may carry at most 2."


def test_files_are_only_taken_in_the_users_messages(make_app):
    messages = [{"role": "user", "content": "Hi"},
                {"role": "assistant", "content": [file_part(b"a", "a.txt")]},
                {"role": "user", "content": "And?"}]
    response = make_app().test_client().post("/v1/chat/completions", json={"messages": messages})
    assert response.status_code == 400
    assert "may only be sent in user messages" in response.get_json()["error"]["message"]
