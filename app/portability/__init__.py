"""The export file as something a person brings back: reading an export of
all conversations (docs/export.md) a conversation at a time, checking each
against the same limits a message, a file and an answer have here, and
saving them for the importer (app/storage/imports.py) in one transaction.

Knows the file's shape and the server's limits; must not know HTTP (app/web
reads the request) or write SQL (app/storage does).
"""
