"""The nginx site rendered for CHAT_AUTH=proxy (deploy/nginx_config.py): made
from the app's own settings, so the header it replaces is exactly the one the
app believes and the secret it sends is the one the app checks. (The site at
work: tests/end_to_end/test_nginx_auth_proxy.py.)"""

import re

import pytest

from app import config as app_config
from app.auth.proxy import PERSON_HEADER_NAME_HEADER, PROXY_SECRET_HEADER
from deploy import nginx_config
from deploy.nginx_config import SiteSettingsError, proxy_mode_settings, render_site

SECRET = "site-tests-secret-" + "ab" * 16
AUTHELIA = {"CHAT_AUTH_HEADER": "Remote-Email", "CHAT_AUTH_PROXY_SECRET": SECRET}
SITE = dict(listen="80", upstreams=["127.0.0.1:8000"])


def set_headers(site):
    """{lower-case name: value} of every proxy_set_header the site sends the app."""
    app_location = site.split("    location / {", 1)[1]
    return {name.lower(): value
            for name, value in re.findall(r"^ *proxy_set_header (\S+) (.+);$", app_location, re.MULTILINE)}


def test_the_site_replaces_exactly_the_header_the_app_believes_and_vouches_for_it():
    site = render_site(**SITE, auth_proxy="http://127.0.0.1:4180", **proxy_mode_settings(AUTHELIA))
    sent = set_headers(site)
    assert sent["remote-email"] == "$chat_person"
    assert sent[PROXY_SECRET_HEADER.lower()] == f'"{SECRET}"'
    assert sent[PERSON_HEADER_NAME_HEADER.lower()] == '"Remote-Email"'
    assert "x-forwarded-email" not in sent


def test_without_a_sign_in_proxy_the_secret_is_nowhere_in_the_site():
    site = render_site(**SITE, auth_header="Remote-Email", auth_secret=SECRET)
    assert SECRET not in site
    assert PROXY_SECRET_HEADER.lower() not in set_headers(site), "the app must never be vouched for"


@pytest.mark.parametrize("env, says", [
    ({}, "CHAT_AUTH_HEADER"),
    ({**AUTHELIA, "CHAT_AUTH_PROXY_SECRET": ""}, "CHAT_AUTH_PROXY_SECRET"),
    ({**AUTHELIA, "CHAT_AUTH_PROXY_SECRET": "s" * 31}, "CHAT_AUTH_PROXY_SECRET"),
    ({**AUTHELIA, "CHAT_AUTH_PROXY_SECRET": "s" * 32 + '"; add_header X 1'}, "CHAT_AUTH_PROXY_SECRET"),
    ({**AUTHELIA, "CHAT_AUTH_HEADER": "Remote-Email $x"}, "CHAT_AUTH_HEADER"),
])
def test_a_proxy_site_needs_the_apps_settings(env, says):
    with pytest.raises(SiteSettingsError, match=says):
        proxy_mode_settings(env)
    with pytest.raises(SiteSettingsError, match=says):
        render_site(**SITE, auth_proxy="http://127.0.0.1:4180",
                    auth_header=env.get("CHAT_AUTH_HEADER", ""), auth_secret=env.get("CHAT_AUTH_PROXY_SECRET", ""))


def test_the_command_renders_from_the_environment_the_app_reads(monkeypatch, capsys):
    monkeypatch.setattr(nginx_config.os, "environ", dict(AUTHELIA))
    nginx_config.main(["--auth-proxy"])
    assert set_headers(capsys.readouterr().out)["remote-email"] == "$chat_person"
    monkeypatch.setattr(nginx_config.os, "environ", {})
    with pytest.raises(SystemExit):
        nginx_config.main(["--auth-proxy"])
    assert "CHAT_AUTH_HEADER" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a header of its own could differ from the app's
        nginx_config.main(["--auth-proxy", "--auth-header", "Remote-Email"])


def test_the_site_and_the_app_accept_the_same_settings():
    assert nginx_config.PROXY_HEADER_NAME.pattern == app_config.PROXY_HEADER_NAME.pattern
    assert nginx_config.PROXY_SECRET.pattern == app_config.PROXY_SECRET.pattern
