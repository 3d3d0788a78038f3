"""The answer as one HTML document that grows while it is written: what a
browser without JavaScript shows in a frame.

Browsers render an HTML response as its bytes arrive, so the escaped text is
simply written as it comes. At the end a link leads to the conversation,
where the finished answer is rendered as markdown.
"""

from markupsafe import escape

from app.answers.reply_pipeline import Heartbeat, Piece
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.rendering.markdown import escape_text

# An empty write is never sent, so a silent model keeps the connection with
# a comment that shows nothing.
KEEP_ALIVE = "<!-- -->"


def progressive_document(head, events, conversation_url):
    """`head` opens the document; then the answer's text from where the page
    that frames it left off (the `Piece`s of answers.subscription.follow_answer),
    then the link."""
    yield f'{head}<div class="text" id="answer-text">'
    for event in events:
        if isinstance(event, Piece):
            yield escape_text(event.text)
        elif isinstance(event, Heartbeat):
            yield KEEP_ALIVE
        elif isinstance(event, (Thought, Waiting)):
            continue  # the conversation page shows the thinking once the answer is done
        else:
            yield (
                f'</div><p class="notice" id="answer-end">The answer is finished. '
                f'<a href="{escape(conversation_url)}" target="_top">Show it with its formatting</a></p>'
                "</body></html>"
            )
            return
