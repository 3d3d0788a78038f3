"""Answers: from a question to the model's finished answer.

Starting an exchange in a conversation (`exchanges`), the history the model is
sent (`model_history`), the reply pipeline that reads the model and yields
pieces, heartbeats and an outcome (`reply_pipeline`), the one timer for every
answer's deadlines (`deadlines`), and letting a burst of requests ask their
models first (`models_first`). It must not know HTML or HTTP: the page and
the API frame its events, and turn its exceptions into status codes.
"""
