"""gunicorn's access log without the queries that carry credentials (the
sign-in callback's code and state: secret_queries.py). gunicorn.conf.py
names this as its `logger_class`; everything else is gunicorn's own logger."""

from gunicorn.glogging import Logger

from app.operations.secret_queries import is_secret_query, without_secret_query


class SecretQueryHidingLogger(Logger):
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
