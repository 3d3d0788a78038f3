"""Migration 0011 on a database with answers in it: each answer that reported
its tokens becomes a billed call, and every message and conversation counts
what it keeps."""

from alembic import command
from sqlalchemy import create_engine, text

from app.storage.engine import resolve_database_url
from app.storage.migrate import alembic_config
from tests.storage.test_people_migration import migrate, unmigrated_url  # noqa: F401 - the fixture

OWNER = "person:1"


def test_upgrading_from_0010_records_the_billed_answers_and_counts_what_is_kept(unmigrated_url):  # noqa: F811
    engine = create_engine(resolve_database_url(unmigrated_url, None))
    migrate(engine, "0010")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO conversations (id, owner_id, title, created_at, updated_at) "
            "VALUES ('c1', :owner, 'Ferries', '2026-12-01 12:00:00', '2026-12-01 12:00:00')"), {"owner": OWNER})
        for role, content, rendered, tokens_in, tokens_out, model in (
            ("user", "Where is the ferry? ⛴", None, None, None, ""),
            ("assistant", "At pier 3.", "<p>At pier 3.</p>\n", 1200, 34, "Gemini · gemini-2.5-flash"),
            ("user", "And the bus?", None, None, None, ""),
            ("assistant", "Line 7.", None, None, None, "Gemini · gemini-2.5-flash"),
        ):
            connection.execute(text(
                "INSERT INTO messages (conversation_id, role, content, rendered, outcome, error, model, created_at, "
                "input_tokens, output_tokens) VALUES ('c1', :role, :content, :rendered, 'complete', '', :model, "
                "'2026-12-01 12:00:00', :tokens_in, :tokens_out)"),
                {"role": role, "content": content, "rendered": rendered, "model": model, "tokens_in": tokens_in,
                 "tokens_out": tokens_out})

    migrate(engine, "0011")
    with engine.connect() as connection:
        calls = connection.execute(text(
            "SELECT owner_id, conversation_id, model, input_tokens, output_tokens, cost_usd FROM billed_calls")).all()
        assert [tuple(call[:5]) for call in calls] == [(OWNER, "c1", "gemini-2.5-flash", 1200, 34)]
        assert abs(calls[0][5] - (1200 * 0.30 + 34 * 2.50) / 1_000_000) < 1e-12
        sizes = [row[0] for row in connection.execute(text("SELECT stored_bytes FROM messages ORDER BY id"))]
        assert sizes == [len("Where is the ferry? ⛴".encode()), len("At pier 3.") + len("<p>At pier 3.</p>\n"),
                         len("And the bus?"), len("Line 7.")]
        assert connection.execute(text("SELECT stored_bytes FROM conversations")).scalar() == sum(sizes)

    # Down again, and the messages are as they were.
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 4
    engine.dispose()
