"""The sidebar's search: results as the person types (htmx), or a page of
them from the plain form (without JavaScript)."""

from flask import current_app, render_template, request, session

from app.rendering.search_snippets import marked, marked_snippet
from app.storage.search import MAX_QUERY_CHARS, search_conversations, search_terms
from app.web.library import bp

TOO_LONG = f"Search for at most {MAX_QUERY_CHARS} characters."


class ShownHit:
    """A result as the list shows it: its title and snippet escaped and marked."""

    def __init__(self, hit, terms):
        self.conversation_id = hit.conversation_id
        self.message_id = hit.message_id
        self.updated_at = hit.updated_at
        self.title = marked(hit.title, terms)
        # A conversation's first question is often its title: not shown twice.
        same_as_title = hit.content is not None and " ".join(hit.content.split()) == hit.title
        self.snippet = marked_snippet(hit.content, terms) if hit.content and not same_as_title else None
        self.role = hit.role


def find(query):
    """(results, error) for a person's query."""
    if len(query) > MAX_QUERY_CHARS:
        return [], TOO_LONG
    terms = search_terms(query)
    if terms is None:
        return [], ""
    with current_app.extensions["db_engine"].connect() as connection:
        hits = search_conversations(connection, session["owner"], terms)
    return [ShownHit(hit, terms) for hit in hits], ""


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    results, error = find(query)
    status = 400 if error else 200
    from_htmx = request.headers.get("HX-Request") == "true"
    return render_template("_search_results.html" if from_htmx else "search.html", query=query, results=results,
                           error=error, announce=from_htmx), status


@bp.app_context_processor
def search_settings():
    return {"max_search_chars": MAX_QUERY_CHARS}
