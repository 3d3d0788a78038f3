"""Render deploy/nginx.conf, as a site file or as a whole loopback nginx.conf.

    python3 deploy/nginx_config.py --listen 80 --server-name chat.example.com \\
        --upstream 127.0.0.1:8000 --static-root /srv/chat/static > /etc/nginx/sites-available/chat

    python3 deploy/nginx_config.py --standalone DIR ...   # a complete nginx.conf for `nginx -p DIR`

The tests and `make stack` use the same rendering, so what they prove is what
is deployed.
"""

import argparse
import sys
from pathlib import Path
from string import Template

class SiteTemplate(Template):
    """Fills only ${name}; nginx's own $variables pass through untouched."""

    pattern = r"\$(?:(?P<escaped>(?!))|(?P<named>(?!))|\{(?P<braced>[a-z_]+)\}|(?P<invalid>(?!)))"


DEPLOY = Path(__file__).resolve().parent
STATIC_ROOT = DEPLOY.parent / "static"

# A self-contained main config for running as an unprivileged test or demo
# stack: everything (pid, logs, temp files) under one directory.
STANDALONE = """\
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
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


def render_site(listen, upstreams, static_root=STATIC_ROOT, read_timeout="300s", server_name="_"):
    servers = "\n".join(f"    server {address};" for address in upstreams)
    template = SiteTemplate((DEPLOY / "nginx.conf").read_text())
    return template.substitute(
        upstream_servers=servers, listen=listen, static_root=static_root,
        read_timeout=read_timeout, server_name=server_name,
    )


def render_standalone(prefix, **site):
    return SiteTemplate(STANDALONE).substitute(prefix=prefix, site=render_site(**site))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="80")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--upstream", action="append", help="host:port of a gunicorn (repeatable)")
    parser.add_argument("--static-root", default=str(STATIC_ROOT))
    parser.add_argument("--read-timeout", default="300s")
    parser.add_argument("--standalone", metavar="DIR", help="write a whole nginx.conf using DIR for pid, logs, temp")
    args = parser.parse_args(argv)
    site = dict(
        listen=args.listen, upstreams=args.upstream or ["127.0.0.1:8000"], static_root=args.static_root,
        read_timeout=args.read_timeout, server_name=args.server_name,
    )
    sys.stdout.write(render_standalone(args.standalone, **site) if args.standalone else render_site(**site))


if __name__ == "__main__":
    main()
