"""What the model is sent: the conversation's turns as LangChain messages,
bounded to the newest that fit."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from app.attachments.model_content import content_for

ROLES = {"user": HumanMessage, "assistant": AIMessage}


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


def with_files(turns, files, provider):
    """(role, text, message id) turns as (role, content), each question with
    its attached files (`files`: {message id: [(name, mime type, bytes)]}) as
    `provider`'s model reads them (app/attachments/model_content.py)."""
    return [(role, content_for(provider, text, files.get(message_id, ())) if role == "user" else text)
            for role, text, message_id in turns]
