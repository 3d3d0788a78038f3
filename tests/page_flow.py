"""The page's flow through the Flask test client, as htmx runs it: a message
POST returns the new bubbles, and the answer's bubble subscribes to the answer
with a GET event stream."""

import re

from tests.conftest import HTMX
from tests.sse_client import decode_events


def answer_url(html):
    """The subscription in a bubble (hx-sse:connect), as htmx reads it."""
    return re.search(r'hx-sse:connect="([^"]+)"', html).group(1).replace("&amp;", "&")


def post(client, path, **data):
    """(conversation id, answer id, the bubbles' HTML) for an htmx POST."""
    response = client.post(path, headers=HTMX, data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', html).group(1)
    answer_id = int(re.search(r'hx-sse:connect="/answers/(\d+)/events', html).group(1))
    return conversation_id, answer_id, html


def subscribe(client, html_or_url, headers=None):
    """The subscription's response, unbuffered: iterate `.response` for its chunks."""
    url = html_or_url if html_or_url.startswith("/") else answer_url(html_or_url)
    return client.get(url, headers={**HTMX, **(headers or {})}, buffered=False)


def read_all(response):
    return "".join(chunk.decode() for chunk in response.response)


def send(client, message, conversation_id=""):
    """Send a message and follow its answer to the end: (conversation id, the
    bubbles' HTML followed by the answer's whole event stream)."""
    conversation_id, _answer_id, html = post(client, "/messages", message=message, conversation_id=conversation_id)
    return conversation_id, html + read_all(subscribe(client, html))


def final_html(body):
    """The data of a stream's last message before its `done` event: the
    finished answer rendered in place."""
    events = decode_events(body)
    assert events[-1]["event"] == "done", events[-1]
    return events[-2]["data"]


def post_and_subscribe(client, message, **form):
    """Send a message as the page does; the answer's subscription response
    (its `.html` is the bubbles' HTML the POST returned)."""
    _conversation_id, _answer_id, html = post(client, "/messages", message=message, **form)
    response = subscribe(client, html)
    response.html = html
    return response


class Bubble:
    """An answer's bubble as htmx builds it from the stream: the rendered
    blocks and the escaped unfinished tail, starting from what the page was
    rendered with (app.rendering.markdown.split_for_streaming)."""

    PARTIAL = re.compile(r'<hx-partial hx-target="#m-\d+-(blocks|text)" hx-swap="(beforeend|innerHTML)">(.*?)</hx-partial>', re.S)

    def __init__(self, shown):
        self.parts = {"blocks": str(shown.blocks), "text": str(shown.tail)}
        self.last_id = None

    def apply(self, body):
        """Apply a stream's piece events; True if it ended (its `done` event)."""
        for event in decode_events(body):
            if event["event"] == "done":
                return True
            if event["id"] is None:
                continue  # the final render: the bubble is replaced
            for part, swap, html in self.PARTIAL.findall(event["data"]):
                self.parts[part] = self.parts[part] + html if swap == "beforeend" else html
            self.last_id = event["id"]
        return False
