"""What the model is sent: the conversation's turns as LangChain messages,
bounded to the newest that fit."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

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
    for role, text in reversed(turns[-max_turns:]):
        if kept and size + len(text) > max_chars:
            break
        kept.append((role, text))
        size += len(text)
    return list(reversed(kept))
