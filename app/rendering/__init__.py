"""Rendering: text into safe HTML and streams into frames.

Escaping and sanitised markdown (`markdown`), code highlighting within a
time and size budget (`highlighting`, with the lexers allowed in
`safe_lexers`), a grounded answer's citation marks placed between its
rendered text and its sources list, both bounded (`citations`, `sources`),
server-sent-events framing as
pure functions (`sse`), and the page's stream of HTML fragments
(`page_events`). It must not know the models or the storage: it is handed
the events and the messages to render.
"""
