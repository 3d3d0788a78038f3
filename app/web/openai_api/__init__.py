"""The OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`): another
face of the same answer pipeline, for the clients people already use (the
openai SDKs, LangChain's ChatOpenAI, curl).

It translates OpenAI's request and response shapes and nothing more: the
answer comes from app/answers/reply_pipeline.py's `stream_reply`, the API keys,
rate limits, metrics and request ids are the JSON API's (app/web/api.py).
`chat_request.py` reads a request, `shapes.py` writes completions and chunks,
`errors.py` writes errors, `routes.py` is the blueprint. It must not know how a
model is read, nor store anything: the client sends the whole conversation.
"""
