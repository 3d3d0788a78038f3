"""What the model is sent of a long conversation with files: the newest
question's files always, earlier ones newest first within one request's
bytes, a note in place of each file left out, and the words that tell the
person what was not sent."""

from app.answers.model_history import REQUEST_FILE_BYTES, files_within, history_file_budget, history_for_model
from app.config import Config
from app.providers.left_out import LeftOut

NOTE = "[file {} left out: the conversation's files exceed what one request can carry]"


def conversation(*files_by_question):
    """(role, text, id) turns, a question with each list of files and an answer
    after each but the last, and {question id: files}."""
    turns, files = [], {}
    for number, attached in enumerate(files_by_question):
        question_id = 10 * number + 1
        turns.append(("user", f"question {number}", question_id))
        files[question_id] = attached
        if number < len(files_by_question) - 1:
            turns.append(("assistant", f"answer {number}", question_id + 1))
    return turns, files


STORED = {}  # file id: bytes, as the database keeps them


def file(name, size):
    """A file as listed with its question (name, mime type, size, file id); its bytes are STORED."""
    file_id = len(STORED) + 1
    STORED[file_id] = name[0].encode() * size
    return (name, "text/plain", size, file_id)


def read_stored(file_ids):
    read_stored.asked = set(file_ids)
    return {file_id: STORED[file_id] for file_id in file_ids}


def sent_as(listed, left_out=False):
    name, mime_type, _size, file_id = listed
    return (name, mime_type, None if left_out else file_id)


def test_the_newest_files_always_go_and_earlier_ones_newest_first_while_they_fit():
    a, b, c, new = file("a.txt", 30), file("b.txt", 50), file("c.txt", 10), file("new.txt", 60)
    turns, files = conversation(
        [a],  # oldest: fills the budget to exactly 100 bytes
        [b, c],  # b would make 110: left out; c fits after it
        [new],  # the newest question
    )
    sent, left_out = files_within(turns, files, budget=100)
    assert left_out == ("b.txt",)
    assert sent == {21: [sent_as(new)], 11: [sent_as(b, left_out=True), sent_as(c)], 1: [sent_as(a)]}


def test_the_newest_files_go_even_over_the_budget_and_leave_no_room_for_older_ones():
    big = file("big.pdf", 150)
    turns, files = conversation([file("old.png", 1)], [big])
    sent, left_out = files_within(turns, files, budget=100)
    assert sent[11] == [sent_as(big)]
    assert left_out == ("old.png",)


def test_a_file_left_out_is_named_to_the_model_in_its_question():
    new = file("new.txt", 60)
    turns, files = conversation([file("photo.png", 80)], [new])
    config = Config(provider="fake", attachment_max_mb=0.0001, attachments_per_message=1)  # 100 bytes
    sent, left_out = history_for_model(turns, files, config, read_stored)
    assert sent[0] == ("user", "question 0\n\n" + NOTE.format("photo.png"))
    assert sent[2] == ("user", "question 1\n\n--- Attached file: new.txt ---\n" + "n" * 60)
    assert left_out == LeftOut(messages=0, files=("photo.png",))
    assert read_stored.asked == {new[3]}, "the bytes of a file left out are not even read"


def test_gemini_reads_the_note_beside_the_files_that_did_go():
    turns, files = conversation([file("photo.png", 80), file("notes.txt", 5)], [file("new.txt", 60)])
    config = Config(provider="vertexai", attachment_max_mb=0.0001, attachments_per_message=1)
    sent, _left_out = history_for_model(turns, files, config, read_stored)
    assert sent[0] == ("user", [
        {"type": "text", "text": "question 0\n\n" + NOTE.format("photo.png")},
        {"type": "text", "text": "[Attached file: notes.txt]"},
        {"type": "media", "mime_type": "text/plain", "data": b"n" * 5},
    ])


def test_the_oldest_messages_cut_by_the_history_limits_are_counted():
    turns, files = conversation([file("gone.txt", 5)], [], [])  # five turns
    config = Config(provider="fake", history_max_turns=3)
    sent, left_out = history_for_model(turns, files, config, read_stored)
    assert [content for _role, content in sent] == ["question 1", "answer 1", "question 2"]
    # The files of a message left out are not named again: the message is.
    assert left_out == LeftOut(messages=2)


def test_the_budget_is_what_one_message_may_carry_within_vertex_ais_inline_limit():
    assert REQUEST_FILE_BYTES == 15_000_000  # 20 MB as base64
    assert history_file_budget(Config()) == 15_000_000  # 3 files of 5 MB
    assert history_file_budget(Config(attachment_max_mb=1, attachments_per_message=2)) == 2_000_000
    assert history_file_budget(Config(attachment_max_mb=20, attachments_per_message=3)) == 15_000_000


def test_the_person_is_told_in_plain_words():
    assert LeftOut(messages=4).note == "The 4 oldest messages were not sent to the model (they do not fit its context)."
    assert LeftOut(messages=1).note == "The oldest message was not sent to the model (it does not fit its context)."
    assert LeftOut(files=("photo.png",)).note == (
        "photo.png from an earlier message was not sent (too large together with the newer files).")
    assert LeftOut(messages=2, files=("a.pdf", "b.png", "c.mp3")).sentences() == [
        "The 2 oldest messages were not sent to the model (they do not fit its context).",
        "a.pdf, b.png and c.mp3 from earlier messages were not sent (too large together with the newer files).",
    ]
    assert not LeftOut() and LeftOut().to_json() is None
    assert LeftOut.from_json(LeftOut(3, ("x.png",)).to_json()) == LeftOut(3, ("x.png",))
