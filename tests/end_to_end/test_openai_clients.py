"""The OpenAI-compatible API spoken by clients no one here wrote: the official
`openai` SDK (sync and async, streamed and not) and langchain-openai's
ChatOpenAI, pointed at `http://127.0.0.1:PORT/v1` of a real gunicorn: on the
fake model, on Gemini through the Vertex AI stand-in on both transports
(finish reasons, thinking, usage, grounding, images and other files, failures,
a client that goes away), and on the local model."""

import asyncio
import base64
import re
from pathlib import Path

import openai
import pytest
from langchain_openai import ChatOpenAI

from app.answers.outcomes import CUT_AT_LENGTH
from deploy.stack import gunicorn
from tests.conftest import API_KEY
from tests.end_to_end.conftest import gemini_env
from tests.providers.vertex_standin import VertexStandIn

SEE_THE_CLIENT_GO = 20
# A 1x1 PNG, as a client would send a screenshot.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)).decode()


def sdk(base, key=API_KEY):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60)


def ask(text):
    return [{"role": "user", "content": text}]


# --- on the fake model: the SDKs and ChatOpenAI speak to it ------------------------


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory):
    env = {"CHAT_API_KEYS": API_KEY, "CHAT_FAKE_CHUNKS": "5", "CHAT_FAKE_CHUNK_MS": "5"}
    with gunicorn(tmp_path_factory.mktemp("openai-fake"), env) as (base, _log, _process):
        yield base


def test_the_sdk_lists_the_models_and_answers_whole_and_streamed(fake_server):
    client = sdk(fake_server)
    assert [model.id for model in client.models.list()] == ["fake-echo"]
    whole = client.chat.completions.create(model="fake-echo", messages=ask("What is baseball?"))
    assert whole.choices[0].message.content == "What is baseball?"
    assert whole.choices[0].finish_reason == "stop"
    assert whole._request_id and whole.id == f"chatcmpl-{whole._request_id}"
    stream = client.chat.completions.create(model="fake-echo", messages=ask("What is baseball?"), stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "What is baseball?"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []  # the usage chunk: the fake model counts no tokens


def test_the_async_sdk_answers_whole_and_streamed(fake_server):
    async def both():
        client = openai.AsyncOpenAI(base_url=f"{fake_server}/v1", api_key=API_KEY, max_retries=0, timeout=60)
        whole = await client.chat.completions.create(model="fake-echo", messages=ask("Async, whole"))
        pieces = [chunk.choices[0].delta.content or "" async for chunk in await client.chat.completions.create(
            model="fake-echo", messages=ask("Async, streamed"), stream=True)]
        await client.close()
        return whole.choices[0].message.content, "".join(pieces)

    assert asyncio.run(both()) == ("Async, whole", "Async, streamed")


def test_chat_openai_invokes_and_streams(fake_server):
    model = ChatOpenAI(model="fake-echo", base_url=f"{fake_server}/v1", api_key=API_KEY, max_retries=0, timeout=60)
    assert model.invoke("Hello from LangChain").content == "Hello from LangChain"
    assert "".join(chunk.text for chunk in model.stream("Streamed from LangChain")) == "Streamed from LangChain"


def test_the_sdks_errors_are_the_ones_they_map(fake_server):
    with pytest.raises(openai.AuthenticationError):
        sdk(fake_server, key="wrong-" + "k" * 30).chat.completions.create(model="fake-echo", messages=ask("hi"))
    with pytest.raises(openai.NotFoundError, match="choose one of: fake-echo"):
        sdk(fake_server).chat.completions.create(model="gpt-4o", messages=ask("hi"))
    with pytest.raises(openai.BadRequestError, match="Only one answer"):
        sdk(fake_server).chat.completions.create(model="fake-echo", messages=ask("hi"), n=2)
    with pytest.raises(openai.BadRequestError, match="Tools"):
        sdk(fake_server).chat.completions.create(
            model="fake-echo", messages=ask("hi"),
            tools=[{"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}}])


def test_the_readmes_sdk_example_runs_as_written(fake_server, capsys):
    """The three lines a newcomer copies, with only the address, key and model made this server's."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [example] = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "OpenAI(" in block]
    example = (example.replace("http://localhost:8000", fake_server)
               .replace('"<a CHAT_API_KEYS key, or anything without them>"', repr(API_KEY))
               .replace("gemini-2.5-flash", "fake-echo"))
    exec(compile(example, "README.md", "exec"), {})
    assert capsys.readouterr().out == "Hi\n"


# --- on Gemini, through the Vertex AI stand-in, on both transports ------------------


@pytest.fixture(scope="module", params=["grpc", "rest"])
def gemini(request, tmp_path_factory):
    with VertexStandIn(transport=request.param) as standin:
        env = gemini_env(standin, CHAT_API_KEYS=API_KEY, CHAT_UPSTREAM_RETRIES="0", CHAT_SEARCH="optional")
        with gunicorn(tmp_path_factory.mktemp(f"openai-{request.param}"), env) as (base, _log, _process):
            yield base, standin


def test_thoughts_are_reasoning_content_and_usage_counts_them(gemini):
    base, standin = gemini
    standin.respond(thoughts=["Weighing it up."], pieces=["The ", "answer."], usage=(11, None, 6))
    chunks = list(sdk(base).chat.completions.create(
        model="gemini-2.5-flash", messages=ask("Think first"), stream=True, stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Weighing it up."
    assert "".join(d.content or "" for d in deltas) == "The answer."
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens) == (
        11, 8, 6)
    standin.respond(thoughts=["Weighing it up."], pieces=["The ", "answer."], usage=(11, None, 6))
    message = sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Think first")).choices[0].message
    assert (message.content, message.reasoning_content) == ("The answer.", "Weighing it up.")


def test_chat_openai_reads_gemini_usage_with_its_reasoning_tokens(gemini):
    base, standin = gemini
    standin.respond(thoughts=["Hmm."], pieces=["Yes."], usage=(4, None, 3))
    model = ChatOpenAI(model="gemini-2.5-flash", base_url=f"{base}/v1", api_key=API_KEY, max_retries=0)
    reply = model.invoke("Well?")
    assert reply.content == "Yes."
    assert reply.usage_metadata["output_token_details"]["reasoning"] == 3


def test_sampling_settings_reach_gemini(gemini):
    base, standin = gemini
    standin.respond(pieces=["ok"])
    sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Settings"), max_completion_tokens=50,
                                      temperature=0.25, top_p=0.5, stop=["END"], seed=7)
    config = standin.requests[-1].body["generationConfig"]
    assert (config["maxOutputTokens"], config["temperature"], config["topP"], config["stopSequences"],
            config["seed"]) == (50, 0.25, 0.5, ["END"], 7)


@pytest.mark.parametrize(("script", "reason", "words"), [
    ({"finish_reason": "MAX_TOKENS"}, "length", CUT_AT_LENGTH),
    ({"finish_reason": "SAFETY", "blocked_category": "HARM_CATEGORY_DANGEROUS_CONTENT"}, "content_filter",
     "declined this answer (dangerous content)"),
    ({"prompt_block": "PROHIBITED_CONTENT"}, "content_filter", "declined this question"),
])
def test_gemini_endings_are_finish_reasons_with_the_products_sentence(gemini, script, reason, words):
    base, standin = gemini
    standin.respond(pieces=["Some ", "text"], **script)
    choice = sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Go")).choices[0]
    assert choice.finish_reason == reason
    assert words in choice.finish_message


def test_a_grounded_answer_carries_its_citations(gemini):
    base, standin = gemini
    standin.respond(pieces=["Paris is the capital."], grounding={
        "sources": [("https://example.org/paris", "Paris")], "supports": [("Paris is the capital.", [0])],
        "queries": ["capital of France"]})
    completion = sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Capital of France?"),
                                                   extra_body={"search": True})
    assert completion.citations == [{"uri": "https://example.org/paris", "title": "Paris"}]
    assert standin.requests[-1].body["tools"] == [{"googleSearch": {}}]


def test_an_image_reaches_gemini_as_inline_bytes_and_a_url_is_refused(gemini):
    base, standin = gemini
    standin.respond(pieces=["A dot."])
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]
    completion = sdk(base).chat.completions.create(model="gemini-2.5-flash",
                                                   messages=[{"role": "user", "content": parts}])
    assert completion.choices[0].message.content == "A dot."
    sent = standin.requests[-1].body["contents"][-1]["parts"]
    assert {"inlineData": {"mimeType": "image/png", "data": PNG}} in sent
    asked = len(standin.requests)
    url_part = {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data"}}
    with pytest.raises(openai.BadRequestError, match="never fetches a URL"):
        sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": [url_part]}])
    assert len(standin.requests) == asked


def test_a_pdf_and_audio_reach_gemini_byte_for_byte_as_file_and_input_audio_parts(gemini):
    base, standin = gemini
    standin.respond(pieces=["A form and a beep."])
    pdf = base64.b64encode(b"%PDF-1.4\n% a form\n%%EOF\n").decode()
    wav = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()
    parts = [{"type": "text", "text": "What are these?"},
             {"type": "file", "file": {"filename": "form.pdf", "file_data": f"data:application/pdf;base64,{pdf}"}},
             {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}]
    completion = sdk(base).chat.completions.create(model="gemini-2.5-flash",
                                                   messages=[{"role": "user", "content": parts}])
    assert completion.choices[0].message.content == "A form and a beep."
    assert standin.requests[-1].body["contents"][-1]["parts"] == [
        {"text": "What are these?"},
        {"text": "[Attached file: form.pdf]"}, {"inlineData": {"mimeType": "application/pdf", "data": pdf}},
        {"text": "[Attached file: audio.wav]"}, {"inlineData": {"mimeType": "audio/wav", "data": wav}}]


def test_geminis_429_is_a_429_with_retry_after(gemini):
    base, standin = gemini
    standin.respond(status=429)
    with pytest.raises(openai.RateLimitError) as refused:
        sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Busy?"), stream=True)
    assert int(refused.value.response.headers["Retry-After"]) > 0
    standin.respond(status=503)
    with pytest.raises(openai.InternalServerError) as unavailable:
        sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Down?"))
    assert unavailable.value.status_code == 503


def test_a_cut_mid_stream_raises_in_the_client_never_a_short_answer(gemini):
    base, standin = gemini
    standin.respond(pieces=["One ", "two ", "three ", "four"], cut_after=2)
    received = []
    with pytest.raises(openai.APIError, match="The connection to the model was lost"):
        for chunk in sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Go"), stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "One two "


def test_a_client_that_goes_away_stops_gemini(gemini):
    base, standin = gemini
    standin.respond(pieces=[f"w{i} " for i in range(400)], delay=0.05)
    stream = sdk(base).chat.completions.create(model="gemini-2.5-flash", messages=ask("Long"), stream=True)
    next(stream), next(stream)
    stream.close()
    request = standin.requests[-1]
    assert request.gone.wait(SEE_THE_CLIENT_GO), "Gemini was still streaming to nobody"
    assert request.pieces_sent < 100


# --- offline, on the local model ----------------------------------------------------


def test_the_local_model_answers_through_the_sdk_and_refuses_images(tmp_path, small_local_model):
    env = {"CHAT_PROVIDER": "local", "CHAT_LOCAL_MODEL_PATH": small_local_model, "CHAT_LOCAL_MAX_TOKENS": "12"}
    with gunicorn(tmp_path, env) as (base, _log, _process):
        client = sdk(base, key="none")
        [model] = [model.id for model in client.models.list()]
        answer = client.chat.completions.create(model=model, messages=ask("What colour is the sky?"), max_tokens=8,
                                                temperature=0)
        assert answer.choices[0].message.content.strip()
        assert answer.choices[0].finish_reason in ("stop", "length")
        image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
        with pytest.raises(openai.BadRequestError, match="reads text only"):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": [image]}])
