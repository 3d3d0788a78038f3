"""docs/configuration.md's table of settings against what app/config.py reads.

The table is written by hand, so it drifts: a setting added to config.py and
never documented, or a row left behind for a setting that is gone. These
tests read both (config.py as Python, by its syntax tree, never by running
it) and name every setting found on one side only.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "app" / "config.py"
DOCS = ROOT / "docs" / "configuration.md"
TABLE_HEADER = "| variable | default | meaning |"

# Settings the table documents that another module reads, not app/config.py,
# with the module that reads each (checked below, so this list cannot rot).
READ_ELSEWHERE = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "app/operations/tracing.py",
}


def _is_environment(node):
    """`env` (load_config's parameter, os.environ by default) or `os.environ`."""
    if isinstance(node, ast.Name):
        return node.id == "env"
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _text(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def names_read(source):
    """The environment variables a module reads: `env.get("X", ...)`, `env["X"]`,
    `os.getenv("X")`, and helpers called as `_int(env, "X", ...)`."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_environment(node.value) and _text(node.slice):
            names.add(_text(node.slice))
        if not isinstance(node, ast.Call):
            continue
        func, args = node.func, node.args
        looks_up = isinstance(func, ast.Attribute) and (
            (func.attr == "get" and _is_environment(func.value))
            or (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os")
        )
        if looks_up and args and _text(args[0]):
            names.add(_text(args[0]))
        for environment, name in zip(args, args[1:]):
            if _is_environment(environment) and _text(name):
                names.add(_text(name))
    return names


def setting_names_mentioned(source):
    """Every string in the module that is a whole CHAT_* name, however it is used."""
    strings = {_text(node) for node in ast.walk(ast.parse(source))} - {None}
    return {string for string in strings if re.fullmatch(r"CHAT_[A-Z0-9_]+", string)}


def names_documented(markdown):
    """The names in the first column of the settings table (a row may name several)."""
    lines = markdown.splitlines()
    assert TABLE_HEADER in lines, f"docs/configuration.md has no table headed {TABLE_HEADER!r}"
    names = set()
    for line in lines[lines.index(TABLE_HEADER) + 2:]:
        if not line.startswith("|"):
            break
        names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def read_by_config():
    return names_read(CONFIG.read_text())


def test_every_setting_config_reads_is_in_the_table():
    missing = read_by_config() - names_documented(DOCS.read_text())
    assert not missing, (
        f"app/config.py reads {', '.join(sorted(missing))}, which docs/configuration.md's table does not "
        "document: add a row (or the name to a row's first column) with its default and what it does"
    )


def test_every_setting_in_the_table_is_read():
    stale = names_documented(DOCS.read_text()) - read_by_config() - set(READ_ELSEWHERE)
    assert not stale, (
        f"docs/configuration.md's table documents {', '.join(sorted(stale))}, which app/config.py does not "
        "read: remove the row, or list the module that reads it in READ_ELSEWHERE"
    )


def test_the_settings_read_elsewhere_are_read_there():
    # Such a module may keep the name in a constant (tracing.py's
    # ENDPOINT_VARIABLE), so the name as a string in it is enough.
    for name, module in READ_ELSEWHERE.items():
        strings = {_text(node) for node in ast.walk(ast.parse((ROOT / module).read_text()))}
        assert name in strings, f"{module} no longer names {name}: update READ_ELSEWHERE and the table"


def test_every_setting_name_in_config_is_seen_as_read():
    # A CHAT_* name config.py reads in a way names_read does not recognise
    # would escape the tests above: make it fail here instead.
    unseen = setting_names_mentioned(CONFIG.read_text()) - read_by_config()
    assert not unseen, (
        f"app/config.py names {', '.join(sorted(unseen))} but names_read does not see it read from the "
        "environment: teach names_read that way of reading"
    )
