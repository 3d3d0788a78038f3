"""Rendering: text into safe HTML and streams into frames.

Escaping and sanitised markdown (`markdown`), server-sent-events framing as
pure functions (`sse`), and the page's stream of HTML fragments
(`page_events`). It must not know the models or the storage: it is handed
the events and the messages to render.
"""
