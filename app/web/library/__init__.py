"""A person's own conversations as a whole: search them, page through them
all, export them, import them, delete them all.

One blueprint (`library`), its routes by job: `search` (the sidebar's search
box), `listing` (the sidebar's "Load more" pages), `pinning` (an item's
Pin/Unpin), `export` (one
conversation as Markdown, all of them as JSON) and `your_data` (the account
area's page: the exports, an import, Delete all; its forms need the page's
CSRF token). Every route reads only the
owner in the session (gated like the page when sign-in is on:
app/auth/gate.py); another owner's conversation is as absent as a missing
one. It must not write SQL (app/storage) or build HTML outside templates and
app/rendering.
"""

from flask import Blueprint

from app.auth.csrf import guard_forms
from app.web.identity import ensure_browser_owner

bp = Blueprint("library", __name__)
bp.before_request(ensure_browser_owner)
# The library's GETs pass; its forms (pin, import, delete all) need the page's token.
guard_forms(bp)

# The routes register themselves on `bp`.
from app.web.library import export, listing, pinning, search, your_data  # noqa: E402,F401
