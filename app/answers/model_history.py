"""What the model is sent: the conversation's turns as LangChain messages,
bounded to the newest that fit, and what was left out (providers.left_out),
which the answer keeps and its bubble says."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from app.attachments.model_content import content_for
from app.attachments.uploads import max_bytes
from app.config import MAX_ATTACHMENT_MB
from app.providers.left_out import LeftOut, file_left_out_note

ROLES = {"user": HumanMessage, "assistant": AIMessage}

# Vertex AI takes at most 20 MB of inline data in one request; sent over
# REST the bytes go as base64 (4/3 as many), so 15 MB of files fill it.
REQUEST_FILE_BYTES = int(MAX_ATTACHMENT_MB * 1_000_000) * 3 // 4


def to_chat_messages(turns, instructions=None):
    """(role, text) pairs to LangChain messages, the form every provider takes;
    `instructions` go first as a system message (Gemini's system_instruction)."""
    system = [SystemMessage(content=instructions)] if instructions else []
    return system + [ROLES[role](content=text) for role, text in turns]


def bound_turns(turns, max_turns, max_chars):
    """The latest turns, at most `max_turns` and about `max_chars` in all.

    Only what the model is sent is cut, oldest first; the newest turn is always
    kept. The stored transcript stays whole.
    """
    kept, size = [], 0
    for turn in reversed(turns[-max_turns:]):  # (role, text), or (role, text, message id)
        if kept and size + len(turn[1]) > max_chars:
            break
        kept.append(turn)
        size += len(turn[1])
    return list(reversed(kept))


def history_file_budget(config):
    """The bytes of files one request carries: what one message may carry
    (CHAT_ATTACHMENT_MAX_MB x CHAT_ATTACHMENTS_PER_MESSAGE, 15 MB by default),
    never more than REQUEST_FILE_BYTES."""
    return min(max_bytes(config) * max(1, config.attachments_per_message), REQUEST_FILE_BYTES)


def files_within(turns, files, budget):
    """Which files of `turns` one request sends, from `files`: {message id:
    [(name, mime type, size, file id)]}. Returns {message id: [(name, mime
    type, file id, or None if left out)]} and the left-out names, newest
    message first.

    The newest question's files always go (they were checked when attached).
    Each earlier question's files, newest question first, go if they fit in
    what `budget` bytes leave; one too large is left out and a smaller, older
    one may still go.
    """
    questions = [message_id for role, _text, message_id in turns if role == "user"]
    if not questions:
        return {}, ()
    newest = questions[-1]
    sent = {newest: [(name, mime_type, file_id) for name, mime_type, _size, file_id in files.get(newest, ())]}
    used = sum(size for _name, _type, size, _id in files.get(newest, ()))
    left_out = []
    for message_id in reversed(questions[:-1]):
        sent[message_id] = []
        for name, mime_type, size, file_id in files.get(message_id, ()):
            fits = used + size <= budget
            used += size if fits else 0
            sent[message_id].append((name, mime_type, file_id if fits else None))
            if not fits:
                left_out.append(name)
    return sent, tuple(left_out)


def with_files(turns, files, provider):
    """(role, text, message id) turns as (role, content), each question with
    its attached files (`files`: {message id: [(name, mime type, bytes)]}) as
    `provider`'s model reads them (app/attachments/model_content.py). A file
    whose bytes are None was left out: the question's text names it instead,
    so the model knows it existed."""
    contents = []
    for role, text, message_id in turns:
        if role != "user":
            contents.append((role, text))
            continue
        attached = files.get(message_id, ())
        notes = "".join(f"\n\n{file_left_out_note(name)}" for name, _type, data in attached if data is None)
        kept = [file for file in attached if file[2] is not None]
        contents.append((role, content_for(provider, text + notes, kept)))
    return contents


def history_for_model(turns, files, config, read_files):
    """(the (role, content) turns `config`'s model is sent, a LeftOut of what
    it is not) for (role, text, message id) `turns` and their `files` (as
    `files_within` takes them); `read_files(file ids)` gives {file id:
    bytes} of those it sends, and only those are read."""
    kept = bound_turns(turns, config.history_max_turns, config.history_max_chars)
    chosen, files_left_out = files_within(kept, files, history_file_budget(config))
    data = read_files({file_id for listed in chosen.values() for _name, _type, file_id in listed if file_id is not None})
    sent = {message_id: [(name, mime_type, None if file_id is None else data[file_id])
                         for name, mime_type, file_id in listed]
            for message_id, listed in chosen.items()}
    return with_files(kept, sent, config.provider), LeftOut(len(turns) - len(kept), files_left_out)
