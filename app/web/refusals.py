"""Requests the app refuses before doing anything, each answered in words a
person or a program can act on: JSON on the API, the message next to the box
for htmx, and the app's own page otherwise.

A refusal never touches the session, so it never sends a cookie: a refused
request from another website must not replace the visitor's identity.
"""

from flask import jsonify, render_template, request


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def is_api_request():
    return request.path.startswith("/api/")


def refusal_response(status, message, headers=None):
    if is_api_request():
        body = jsonify(error=message)
    elif request.headers.get("HX-Request") == "true":
        body = render_template("_composer_error.html", message=message)
    else:
        body = render_template("error.html", message=message, status=status)
    return body, status, headers or {}


def refused(error):
    return refusal_response(error.status, error.message)
