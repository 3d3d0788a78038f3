"""gunicorn's logger: its access log without the queries that carry
credentials (the sign-in callback's code and state: secret_queries.py), and
with CHAT_LOG_FORMAT=json its access and error logs as one JSON object per
line, like the app's own (logs.py), so a log pipeline reads one format.
gunicorn.conf.py names this as its `logger_class`; everything else is
gunicorn's own logger."""

import json
import logging
import os
import sys
import time
import traceback

from gunicorn.glogging import Logger

from app.operations.secret_queries import is_secret_query, without_secret_query


def json_logs():
    """CHAT_LOG_FORMAT as app/config.py reads it. gunicorn makes its logger in
    the master before any hook runs, so it reads the variable itself; an
    invalid value is refused by the configuration check (gunicorn.conf.py)."""
    return os.environ.get("CHAT_LOG_FORMAT", "").strip().lower() == "json"


def printed_line(message, level=logging.INFO, logger="gunicorn.error"):
    """A line gunicorn.conf.py's hooks print rather than log (so that it is
    written whatever the log level): in the error log's format, JSON or text."""
    if not json_logs():
        return message
    from app.operations.logs import json_formatter

    return json_formatter().format(logging.LogRecord(logger, level, __file__, 0, message, None, None))


def unraisable_as_json(unraisable, _dumps=json.dumps, _stderr=sys.stderr, _now=time.strftime,
                       _format=traceback.format_exception):
    """What Python would print as "Exception ignored in: ..." (at a worker's
    exit, a logging handler collected after gevent's modules are gone), as a
    JSON line. Its helpers are bound as defaults: by then module globals may
    already be cleared."""
    try:
        text = f"{unraisable.err_msg or 'Exception ignored in'}: {unraisable.object!r}\n" + "".join(
            _format(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback))
        _stderr.write(_dumps({"time": _now("%Y-%m-%d %H:%M:%S"), "level": "ERROR", "logger": "py.unraisable",
                              "message": text}) + "\n")
        _stderr.flush()
    except Exception:  # nowhere left to say it
        pass


class SecretQueryHidingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        if json_logs():
            from app.operations.logs import json_formatter

            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if getattr(handler, "_gunicorn", False):
                        handler.setFormatter(json_formatter())
            # Python's warnings (gevent's about its monkey-patching, say) are
            # printed as text before the app has set up its logging: they go
            # to the error log instead, as JSON.
            logging.captureWarnings(True)
            warnings_log = logging.getLogger("py.warnings")
            warnings_log.handlers = [handler for handler in self.error_log.handlers
                                     if getattr(handler, "_gunicorn", False)]
            warnings_log.propagate = False
            sys.unraisablehook = unraisable_as_json

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if is_secret_query(path, query):
            target = without_secret_query(environ["RAW_URI"], path)
            atoms["r"] = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
            atoms["q"] = ""
            for name in ("{raw_uri}e", "{request_uri}e"):
                if name in atoms:
                    atoms[name] = without_secret_query(atoms[name], path)
            atoms["{query_string}e"] = ""
        # A page the callback led to may name it as the Referer.
        for name in ("f", "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = without_secret_query(atoms[name])
        return atoms

    def access(self, resp, req, environ, request_time):
        if not json_logs():
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return
        try:
            atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
            method, target = environ.get("REQUEST_METHOD", "-"), environ.get("RAW_URI", "-")
            fields = {
                # The id the app gave the request (request_ids.py), as its own lines carry it.
                "request_id": atoms["{x-request-id}o"],
                "method": method,
                "path": without_secret_query(target, environ.get("PATH_INFO", "")),
                "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
                "duration": round(request_time.total_seconds(), 6),
                "bytes": getattr(resp, "sent", None) or 0,
                "user_agent": atoms["a"],
                "remote_addr": atoms["h"],
                "referer": atoms["f"],
            }
            self.access_log.info("%s %s %s", method, fields["path"], fields["status"], extra=fields)
        except Exception:
            self.error(traceback.format_exc())
