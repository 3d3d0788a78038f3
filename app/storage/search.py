"""Full-text search over one owner's conversations: titles, questions and answers.

The indexes are made and kept in step by the database itself (migration
0013): FTS5 tables with triggers on SQLite, generated tsvector columns with
GIN indexes on PostgreSQL. A person's query never reaches either engine's
query syntax as written: it is split into words (letters and digits, as both
engines' tokenizers split text), each quoted, so no input is a syntax error.
Every word must occur in one message (or in the title); the last word also
matches as a prefix, so results come as the person types.

Best first: ranked by relevance (bm25 on SQLite, ts_rank on PostgreSQL,
a title's match counting twice) when the words are in at most
RANKED_MATCHES messages. Ranking reads every match, so for words in more
(a common word, a short prefix: relevance means little there anyway) the
newest conversations holding them come first, read from the newest match
down until enough conversations are found (docs/benchmarks.md, "Search").
"""

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select, text

from app.storage.models import Conversation, Message

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 64
# A prefix of one or two letters matches a large part of every index: such
# a last word is matched whole.
MIN_PREFIX_CHARS = 3
RESULTS = 20
# Above this many matching messages (of every owner), newest first.
RANKED_MATCHES = 2000
# Newest first reads at most this many matches of the owner's.
NEWEST_SCANNED = 5000

_WORD = re.compile(r"[^\W_]+")


class SearchTerms(NamedTuple):
    words: tuple  # casefolded
    last_is_prefix: bool


class SearchHit(NamedTuple):
    conversation_id: str
    title: str
    updated_at: datetime
    message_id: int | None  # the best matching message, None if only the title matched
    role: str | None
    content: str | None


def search_terms(query):
    """The words of a person's query (at most MAX_TERMS, each at most
    MAX_TERM_CHARS), or None if it holds none. The caller bounds its length."""
    words = tuple(word[:MAX_TERM_CHARS] for word in _WORD.findall(query.casefold()))[:MAX_TERMS]
    if not words:
        return None
    return SearchTerms(words, len(words[-1]) >= MIN_PREFIX_CHARS)


def _fts5_query(terms):
    # The words hold only letters and digits: quoted, each is a plain term.
    quoted = [f'"{word}"' for word in terms.words]
    if terms.last_is_prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(terms):
    quoted = [f"'{word}'" for word in terms.words]
    if terms.last_is_prefix:
        quoted[-1] += ":*"
    return " & ".join(quoted)


# bm25 is lower for better; a title's match counts twice a message's.
_SQLITE_RANKED = """
    WITH matched AS MATERIALIZED (
        -- bm25 is read where FTS5 computes it, then ranked below.
        SELECT rowid AS message_id, bm25(message_search) AS score
        FROM message_search WHERE message_search MATCH :query
    ), titled AS MATERIALIZED (
        SELECT conversation_id, 2 * bm25(conversation_search) AS score
        FROM conversation_search WHERE conversation_search MATCH :query
    ), message_hits AS (
        SELECT m.conversation_id AS conversation_id, m.id AS message_id, MIN(matched.score) AS score
        FROM matched JOIN messages m ON m.id = matched.message_id
        JOIN conversations c ON c.id = m.conversation_id
        WHERE c.owner_id = :owner_id
        GROUP BY m.conversation_id
    ), title_hits AS (
        SELECT t.conversation_id AS conversation_id, t.score AS score
        FROM titled t JOIN conversations c ON c.id = t.conversation_id
        WHERE c.owner_id = :owner_id
    )
    SELECT h.conversation_id, MAX(h.message_id), SUM(h.score) AS score
    FROM (SELECT conversation_id, message_id, score FROM message_hits
          UNION ALL SELECT conversation_id, NULL, score FROM title_hits) h
    JOIN conversations c ON c.id = h.conversation_id
    GROUP BY h.conversation_id
    ORDER BY score, MAX(c.updated_at) DESC
    LIMIT :limit"""

# ts_rank is higher for better.
_POSTGRESQL_RANKED = """
    WITH q AS (SELECT to_tsquery('simple', :query) AS query),
    message_hits AS (
        SELECT DISTINCT ON (m.conversation_id) m.conversation_id AS conversation_id, m.id AS message_id,
               ts_rank(m.content_search, q.query) AS score
        FROM q, messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.content_search @@ q.query AND c.owner_id = :owner_id
        ORDER BY m.conversation_id, score DESC, m.id
    ), title_hits AS (
        SELECT c.id AS conversation_id, 2 * ts_rank(c.title_search, q.query) AS score
        FROM q, conversations c
        WHERE c.title_search @@ q.query AND c.owner_id = :owner_id
    )
    SELECT h.conversation_id, MAX(h.message_id), SUM(h.score) AS score
    FROM (SELECT conversation_id, message_id, score FROM message_hits
          UNION ALL SELECT conversation_id, NULL, score FROM title_hits) h
    JOIN conversations c ON c.id = h.conversation_id
    GROUP BY h.conversation_id
    ORDER BY score DESC, MAX(c.updated_at) DESC
    LIMIT :limit"""


_SQLITE_COUNT = "SELECT count(*) FROM (SELECT 1 FROM message_search WHERE message_search MATCH :query LIMIT :cap)"
_POSTGRESQL_COUNT = """
    SELECT count(*) FROM (SELECT 1 FROM messages WHERE content_search @@ to_tsquery('simple', :query) LIMIT :cap) m"""
# Newest match first: FTS5 reads its index in rowid order (messages.id grows
# with time), so the scan stops as soon as enough conversations are found.
_SQLITE_NEWEST_MESSAGES = """
    SELECT m.conversation_id, m.id
    FROM message_search JOIN messages m ON m.id = message_search.rowid
    JOIN conversations c ON c.id = m.conversation_id
    WHERE message_search MATCH :query AND c.owner_id = :owner_id
    ORDER BY message_search.rowid DESC LIMIT :scan"""
_SQLITE_NEWEST_TITLES = """
    SELECT s.conversation_id FROM conversation_search s JOIN conversations c ON c.id = s.conversation_id
    WHERE conversation_search MATCH :query AND c.owner_id = :owner_id
    ORDER BY s.rowid DESC LIMIT :limit"""
_POSTGRESQL_NEWEST_MESSAGES = """
    SELECT m.conversation_id, m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.content_search @@ to_tsquery('simple', :query) AND c.owner_id = :owner_id
    ORDER BY m.id DESC LIMIT :scan"""
_POSTGRESQL_NEWEST_TITLES = """
    SELECT c.id FROM conversations c
    WHERE c.title_search @@ to_tsquery('simple', :query) AND c.owner_id = :owner_id
    ORDER BY c.updated_at DESC LIMIT :limit"""

_TITLES = select(Conversation.id, Conversation.title, Conversation.updated_at).where(
    Conversation.id.in_(bindparam("ids", expanding=True)))
_MESSAGES = select(Message.id, Message.role, Message.content).where(Message.id.in_(bindparam("ids", expanding=True)))


def search_conversations(connection, owner_id, terms, limit=RESULTS):
    """`owner_id`'s conversations matching `terms` (search_terms), best
    first: SearchHits. `connection`: a SQLAlchemy Connection."""
    postgresql = connection.dialect.name == "postgresql"
    query = _tsquery(terms) if postgresql else _fts5_query(terms)
    count = connection.execute(text(_POSTGRESQL_COUNT if postgresql else _SQLITE_COUNT),
                               {"query": query, "cap": RANKED_MATCHES + 1}).scalar()
    if count <= RANKED_MATCHES:
        ranked = connection.execute(text(_POSTGRESQL_RANKED if postgresql else _SQLITE_RANKED),
                                    {"query": query, "owner_id": owner_id, "limit": limit}).all()
        return _hits(connection, [(row[0], row[1]) for row in ranked])
    found = _newest(connection, postgresql, query, owner_id, limit)
    hits = _hits(connection, found)
    return sorted(hits, key=lambda hit: hit.updated_at, reverse=True)[:limit]


def _newest(connection, postgresql, query, owner_id, limit):
    """Up to `limit` conversations by their newest matching message, and up
    to `limit` by their title: [(conversation id, message id or None)]."""
    params = {"query": query, "owner_id": owner_id, "limit": limit, "scan": NEWEST_SCANNED}
    found = {}
    result = connection.execute(text(_POSTGRESQL_NEWEST_MESSAGES if postgresql else _SQLITE_NEWEST_MESSAGES), params)
    for conversation_id, message_id in result:
        found.setdefault(conversation_id, message_id)
        if len(found) == limit:
            break
    result.close()
    titles = connection.execute(text(_POSTGRESQL_NEWEST_TITLES if postgresql else _SQLITE_NEWEST_TITLES), params)
    for (conversation_id,) in titles:
        found.setdefault(conversation_id, None)
    return list(found.items())


def _hits(connection, ranked):
    """SearchHits for [(conversation id, message id or None)], in that order."""
    if not ranked:
        return []
    conversation_ids = [conversation_id for conversation_id, _message_id in ranked]
    message_ids = [message_id for _conversation_id, message_id in ranked if message_id is not None]
    conversations = {row.id: row for row in connection.execute(_TITLES, {"ids": conversation_ids})}
    messages = {row.id: row for row in connection.execute(_MESSAGES, {"ids": message_ids})} if message_ids else {}
    hits = []
    for conversation_id, message_id in ranked:
        conversation = conversations[conversation_id]
        message = messages.get(message_id)
        hits.append(SearchHit(
            conversation_id, conversation.title, conversation.updated_at, message_id,
            message.role if message else None, message.content if message else None,
        ))
    return hits
