"""Render deploy/nginx.conf, as a site file or as a whole loopback nginx.conf.

    python3 deploy/nginx_config.py --listen 80 --server-name chat.example.com \\
        --upstream 127.0.0.1:8000 --static-root /srv/chat/static > /etc/nginx/sites-available/chat

    python3 deploy/nginx_config.py --standalone DIR ...   # a complete nginx.conf for `nginx -p DIR`

    set -a; . /etc/chat/chat.env; set +a   # CHAT_AUTH=proxy: the site from the app's own settings
    (umask 077; python3 deploy/nginx_config.py ... --auth-proxy > /etc/nginx/sites-available/chat)

The tests and `make stack` use the same rendering, so what they prove is what
is deployed. Only load tests from one address render it --no-client-limits.
"""

import argparse
import os
import re
import sys
from pathlib import Path
from string import Template

class SiteTemplate(Template):
    """Fills only ${name}; nginx's own $variables pass through untouched."""

    pattern = r"\$(?:(?P<escaped>(?!))|(?P<named>(?!))|\{(?P<braced>[a-z_]+)\}|(?P<invalid>(?!)))"


DEPLOY = Path(__file__).resolve().parent
STATIC_ROOT = DEPLOY.parent / "static"
# The directives that apply the per-address limits (the zones stay, unused).
CLIENT_LIMITS = re.compile(r"^ *limit_(conn|req) .*\n", re.MULTILINE)
# The lines that put an authenticating proxy in front (CHAT_AUTH=proxy):
# comments, unless rendered with --auth-proxy.
AUTH_PROXY_LINES = re.compile(r"^( *)#auth: ?", re.MULTILINE)
OAUTH2_PROXY = "http://127.0.0.1:4180"  # oauth2-proxy's default address
PERSON_HEADER = "X-Forwarded-Email"
# The site's access log (in its own format, without credentials in queries).
ACCESS_LOG = "/var/log/nginx/access.log"
# The app's own settings the site is rendered with for CHAT_AUTH=proxy, so the
# header nginx replaces is the one the app believes, and the secret nginx
# sends is the one it checks; their forms as app/config.py accepts them.
PROXY_HEADER_NAME = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
PROXY_SECRET = re.compile(r"[A-Za-z0-9_.~+/=-]{32,}")


class SiteSettingsError(ValueError):
    """The app's settings cannot make a proxy-mode site; the message says what to set."""


def proxy_mode_settings(env):
    """CHAT_AUTH_HEADER and CHAT_AUTH_PROXY_SECRET from the app's environment,
    as render_site's auth_header and auth_secret."""
    header = env.get("CHAT_AUTH_HEADER", "").strip()
    secret = env.get("CHAT_AUTH_PROXY_SECRET", "").strip()
    if not PROXY_HEADER_NAME.fullmatch(header):
        raise SiteSettingsError(f"--auth-proxy renders the site from the app's settings: set CHAT_AUTH_HEADER "
                                f"(a header name, e.g. {PERSON_HEADER}) as in /etc/chat/chat.env, got {header!r}")
    if not PROXY_SECRET.fullmatch(secret):
        raise SiteSettingsError("--auth-proxy renders the site from the app's settings: set CHAT_AUTH_PROXY_SECRET "
                                "(32 or more letters, digits or -_.~+/=) as in /etc/chat/chat.env")
    return dict(auth_header=header, auth_secret=secret)

# A self-contained main config for running as an unprivileged test or demo
# stack: everything (pid, logs, temp files) under one directory.
# worker_connections counts every connection, to clients and to gunicorn,
# and those that have not sent a request yet, which no per-address limit
# sees: 8,192 keeps serving others while one address holds 4,500 half-open
# ones (tests/end_to_end/test_nginx_limits.py), and carries the benchmark's
# 1,000 streams and 1,000 requests (two connections each). Each one is a file
# descriptor; worker_rlimit_nofile adds room for files and logs (above the
# hard limit, nginx logs an alert and goes on with what it has).
STANDALONE = """\
daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${prefix}/access.log;
    client_body_temp_path ${prefix}/client_body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
${site}
}
"""


def render_site(listen, upstreams, static_root=STATIC_ROOT, read_timeout="300s", server_name="_",
                client_limits=True, auth_proxy=None, auth_header=PERSON_HEADER, auth_secret="",
                access_log=ACCESS_LOG):
    """`client_limits=False` drops the per-address limits: for load tests
    only, whose many clients all share one address. `auth_proxy`: the URL of
    an authenticating proxy (oauth2-proxy) that nginx asks about each request;
    nginx names the person in `auth_header` and vouches for it with
    `auth_secret` (the app's CHAT_AUTH_HEADER and CHAT_AUTH_PROXY_SECRET,
    from proxy_mode_settings)."""
    servers = "\n".join(f"    server {address};" for address in upstreams)
    text = (DEPLOY / "nginx.conf").read_text()
    if not client_limits:
        text = CLIENT_LIMITS.sub("", text)
    if auth_proxy:
        proxy_mode_settings({"CHAT_AUTH_HEADER": auth_header, "CHAT_AUTH_PROXY_SECRET": auth_secret})
        text = AUTH_PROXY_LINES.sub(r"\1", text)
    else:
        auth_secret = ""  # not even in the commented-out lines
    return SiteTemplate(text).substitute(
        upstream_servers=servers, listen=listen, static_root=static_root,
        read_timeout=read_timeout, server_name=server_name,
        auth_proxy=auth_proxy or OAUTH2_PROXY, auth_header=auth_header, auth_secret=auth_secret,
        access_log=access_log,
    )


def render_standalone(prefix, **site):
    site.setdefault("access_log", f"{prefix}/access.log")
    return SiteTemplate(STANDALONE).substitute(prefix=prefix, site=render_site(**site))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="80")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--upstream", action="append", help="host:port of a gunicorn (repeatable)")
    parser.add_argument("--static-root", default=str(STATIC_ROOT))
    parser.add_argument("--read-timeout", default="300s")
    parser.add_argument("--standalone", metavar="DIR", help="write a whole nginx.conf using DIR for pid, logs, temp")
    parser.add_argument("--no-client-limits", dest="client_limits", action="store_false",
                        help="no per-address limits: for a benchmark from one address, never for a site")
    parser.add_argument("--auth-proxy", nargs="?", const=OAUTH2_PROXY, metavar="URL",
                        help=f"sign people in through oauth2-proxy at URL (default {OAUTH2_PROXY}): CHAT_AUTH=proxy; "
                             "reads the app's CHAT_AUTH_HEADER and CHAT_AUTH_PROXY_SECRET from the environment")
    args = parser.parse_args(argv)
    try:
        proxy_mode = proxy_mode_settings(os.environ) if args.auth_proxy else {}
    except SiteSettingsError as error:
        parser.error(str(error))
    site = dict(
        listen=args.listen, upstreams=args.upstream or ["127.0.0.1:8000"], static_root=args.static_root,
        read_timeout=args.read_timeout, server_name=args.server_name, client_limits=args.client_limits,
        auth_proxy=args.auth_proxy, **proxy_mode,
    )
    sys.stdout.write(render_standalone(args.standalone, **site) if args.standalone else render_site(**site))


if __name__ == "__main__":
    main()
