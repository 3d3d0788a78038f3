"""Answers: from a question to the model's finished answer, apart from any request.

Saving an exchange in a conversation (`exchanges`), the history the model is
sent (`model_history`), generating an answer on a task of its own once a
process has claimed it (`generation`), the answer's log in this process
(`live`), following an answer from any offset (`subscription`), the reply
pipeline that reads the model and yields pieces, heartbeats and an outcome
(`reply_pipeline`), and the one timer for every answer's deadlines
(`deadlines`). It must not know HTML or HTTP: the page and the API frame its
events, and turn its exceptions into status codes.
"""
