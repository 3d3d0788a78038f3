"""Schema migrations (Alembic): `python -m app.storage.migrate` upgrades DATABASE_URL to the latest schema.

On the default SQLite database the app applies them itself at start-up; on
PostgreSQL run this command once per deploy, before starting the servers.
"""

import fcntl
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine, lock_path=None):
    """Bring the database behind `engine` to the latest schema.

    `lock_path`: a file lock, so that several workers starting together on
    one SQLite file migrate one after the other.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    lock = open(lock_path, "w") if lock_path else None
    try:
        if lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if lock:
            lock.close()


def main():
    from sqlalchemy import create_engine

    from app.config import ConfigError, load_config
    from app.storage.engine import resolve_database_url

    try:
        config = load_config()
    except ConfigError as error:
        sys.exit(f"chat: configuration error: {error}")
    url = resolve_database_url(config.database_url, MIGRATIONS.parent.parent / "instance")
    upgrade(create_engine(url))
    print(f"database schema is up to date ({create_engine(url).url.render_as_string(hide_password=True)})")


if __name__ == "__main__":
    main()
