"""The answer as one HTML document that grows while it is written: what a
browser without JavaScript shows in a frame.

Browsers render an HTML response as its bytes arrive, but nothing written
can be taken back without a script. So the frame does as the page does
(rendering/page_events.py): each markdown block is shown as escaped text
while it is written, in a `.tail` element, and once it is finished it is
written again, rendered, right after. The style sheet hides every `.tail`
that something follows (`.tail:has(+ *)`), so a person sees finished blocks
formatted and only the block being written as plain text. At the end the
last block is rendered too, and a link leads to the conversation, where
the stored rendering adds highlighting and citations.

The frame starts where the page's own plain tail starts (ShownSoFar's
`tail_start`), at a block boundary, so it holds whole blocks; the page hides
its plain tail when scripts are off (static/noscript.css).
"""

from markupsafe import escape

from app.answers.reply_pipeline import Heartbeat, Piece
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.rendering.markdown import BlockSplitter, escape_text, render_block

# An empty write is never sent, so a silent model keeps the connection with
# a comment that shows nothing.
KEEP_ALIVE = "<!-- -->"
TAIL = '<div class="text tail">'


def progressive_document(head, events, conversation_url):
    """`head` opens the document; then the answer's text from where the page
    that frames it left off (the `Piece`s of answers.subscription.follow_answer),
    block by block, then the link."""
    yield f'{head}<div class="markdown" id="answer-text">{TAIL}'
    splitter = BlockSplitter()
    for event in events:
        if isinstance(event, Piece):
            yield _piece(splitter, event.text)
        elif isinstance(event, Heartbeat):
            yield KEEP_ALIVE
        elif isinstance(event, (Thought, Waiting)):
            continue  # the conversation page shows the thinking once the answer is done
        else:
            last = render_block(splitter.tail) if splitter.tail.strip() else ""
            yield (
                f'</div>{last}</div><p class="notice" id="answer-end">The answer is finished. '
                f'<a href="{escape(conversation_url)}" target="_top">Show it with its formatting</a></p>'
                "</body></html>"
            )
            return


def _piece(splitter, text):
    """What one piece adds: its text to the plain tail, or the blocks it
    finished, rendered, and a new plain tail after them."""
    blocks = splitter.feed(text)
    if not blocks and splitter.tail_grew_by_piece:
        return escape_text(text)
    rendered = "".join(render_block(block) for block in blocks)
    # A blank line between blocks was dropped (or blocks finished): the
    # plain tail is written anew, as a reload would show it.
    return f"</div>{rendered}{TAIL}{escape_text(splitter.tail)}"
