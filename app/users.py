"""The people who use the app (CHAT_AUTH=oidc or proxy), for its operator.

    python -m app.users list            every person: conversations, answers, tokens, last seen
    python -m app.users remove EMAIL    remove a person (or `#ID`), with their conversations

It uses the same DATABASE_URL as the app. Removing a person deletes every
conversation they own and ends each of their sessions at once. Whoever the
provider or the proxy still lets in comes back as a new person with nothing:
refuse them there (or in the allow-lists) too.
"""

import argparse
import sys

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.auth.people import person_with_email, remove_person, shown_name, usage
from app.config import ConfigError, load_config
from app.storage.migrate import MIGRATIONS, upgrade
from app.storage.models import Person

INSTANCE = MIGRATIONS.parent.parent.parent / "instance"  # the app's default instance folder


def open_database():
    from app.storage.engine import _check_schema_is_current, resolve_database_url

    config = load_config()
    engine = create_engine(resolve_database_url(config.database_url, INSTANCE))
    if engine.dialect.name == "sqlite":
        upgrade(engine, lock_path=f"{engine.url.database}.migrate-lock")  # as the app does at start
    else:
        _check_schema_is_current(engine)
    return engine


def list_people(db, out):
    rows = usage(db)
    if not rows:
        print("Nobody has signed in yet.", file=out)
        return
    header = ("id", "person", "email", "signed in through", "conversations", "answers", "input tokens",
              "output tokens", "last seen (UTC)")
    table = [header] + [
        (f"#{person.id}", shown_name(person), person.email or "-", person.issuer, str(conversations), str(answers),
         f"{input_tokens:,}", f"{output_tokens:,}", person.seen_at.strftime("%Y-%m-%d %H:%M"))
        for person, conversations, answers, input_tokens, output_tokens in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


def find_person(db, who):
    if who.startswith("#") and who[1:].isdigit():
        return db.get(Person, int(who[1:]))
    return person_with_email(db, who)


def remove(db, who, out):
    person = find_person(db, who)
    if person is None:
        print(f"No person {who!r}: see `python -m app.users list` (a person is an email or #id).", file=out)
        return 1
    same_email = db.scalars(select(Person).where(Person.email == person.email, Person.id != person.id)).all() \
        if person.email and not who.startswith("#") else []
    if same_email:
        ids = ", ".join(f"#{p.id}" for p in [person, *same_email])
        print(f"Several people have {who}: {ids}. Name one by its #id.", file=out)
        return 1
    conversations = remove_person(db, person)
    print(f"Removed #{person.id} {shown_name(person)} and {conversations} conversation(s); "
          "their sessions have ended.", file=out)
    return 0


def main(argv=None, out=sys.stdout):
    parser = argparse.ArgumentParser(prog="python -m app.users", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every person, with their usage")
    removing = commands.add_parser("remove", help="remove a person and their conversations")
    removing.add_argument("person", help="their email, or #id from the list")
    args = parser.parse_args(argv)
    try:
        engine = open_database()
    except ConfigError as error:
        print(f"chat: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        with Session(engine) as db:
            if args.command == "list":
                list_people(db, out)
                return 0
            return remove(db, args.person, out)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
