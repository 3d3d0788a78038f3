"""The local model is sent the newest turns that fit its context window, and
says how many it left out, so the answer can tell the person: through its
chat template (the default model) and as a plain transcript (a base model:
the tests' small Gemma 3 270M, for real, through the reply pipeline)."""

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from app.answers.reply_pipeline import Piece, stream_reply
from app.providers.left_out import LeftOut
from app.providers.local import LocalChatModel, start_completion
from tests.end_to_end.conftest import small_local_model  # noqa: F401 - the fixture


class ChatLlm:
    """A llama with a chat template, a tokenizer of one token per word and a
    context of 40 tokens, that records what it was asked."""

    metadata = {"tokenizer.chat_template": "{{ messages }}"}

    def tokenize(self, text, add_bos, special):
        return text.split()

    def n_ctx(self):
        return 40

    def create_chat_completion(self, messages, stop=None, **sampling):
        self.sent = messages
        return iter(())


CONVERSATION = [
    SystemMessage("Answer briefly."), HumanMessage("one two three four five six"), AIMessage("seven eight"),
    HumanMessage("nine ten"), AIMessage("eleven"), HumanMessage("What now?"),
]


def test_the_chat_template_path_says_how_many_turns_it_left_out():
    llm, told = ChatLlm(), []
    start_completion(llm, LocalChatModel(model_path="unused.gguf", max_tokens=10), CONVERSATION,
                     on_left_out=told.append)
    # 30 tokens for the conversation (8 a message besides its words).
    assert [m["content"] for m in llm.sent] == ["Answer briefly.", "eleven", "What now?"]
    assert told == [3]


def test_a_conversation_that_fits_leaves_nothing_out():
    llm, told = ChatLlm(), []
    start_completion(llm, LocalChatModel(model_path="unused.gguf", max_tokens=10), CONVERSATION[-2:],
                     on_left_out=told.append)
    assert told == []


def turns_of(words, count):
    """`count` alternating turns of `words` words each, and a question last."""
    turns = [(HumanMessage if n % 2 == 0 else AIMessage)(" ".join(f"word{n}x{w}" for w in range(words)))
             for n in range(count)]
    return turns + [HumanMessage("What was the first word?")]


def test_the_small_model_leaves_out_the_oldest_turns_and_the_answer_says_so(small_local_model):
    # Gemma 3 270M has no chat template: it reads a transcript. An answer of
    # up to 4,096 - 160 tokens leaves 160 of its 4,096 for the conversation
    # and the transcript's preamble: a few of these turns, not all six.
    # One thread: a llama of its own (loaded per path and threads), since a
    # closed stream's native thread ends its current token after the close
    # returns, and a llama.cpp context is not for two answers at once.
    model = LocalChatModel(model_path=small_local_model, threads=1, max_tokens=4096 - 160)
    conversation = [SystemMessage("Be brief.")] + turns_of(12, 6)
    finished = []
    events = stream_reply(model, conversation, on_finish=finished.append, left_out=LeftOut(messages=2))
    next(event for event in events if isinstance(event, Piece))  # llama.cpp took the prompt and answers
    events.close()
    # What the caller cut before (2), and what the context window cut.
    cut_here = finished[0].left_out.messages - 2
    assert 0 < cut_here < 7 and finished[0].left_out == LeftOut(messages=2 + cut_here)
    assert finished[0].left_out.note == (
        f"The {2 + cut_here} oldest messages were not sent to the model (they do not fit its context).")
