"""The sign-in settings: each mode refuses to start without what it needs,
and the allow-lists."""

import pytest

from app.auth.allow_lists import is_allowed
from app.config import Config, ConfigError, load_config

BASE = {"SECRET_KEY": "x" * 32, "CHAT_PROVIDER": "fake"}
PROXY = {"CHAT_AUTH": "proxy", "CHAT_AUTH_HEADER": "X-Forwarded-Email", "CHAT_PROXY_HOPS": "1",
         "CHAT_AUTH_PROXY_SECRET": "s" * 32}


def config_of(**env):
    return load_config({**BASE, **env})


def test_none_is_the_default():
    assert config_of().auth == "none"


@pytest.mark.parametrize("env, says", [
    ({"CHAT_AUTH": "ldap"}, "none, oidc or proxy"),
    ({"CHAT_AUTH": "oidc"}, "CHAT_OIDC_ISSUER"),
    ({"CHAT_AUTH": "oidc", "CHAT_OIDC_ISSUER": "http://idp.example.com", "CHAT_OIDC_CLIENT_ID": "c"}, "https://"),
    ({"CHAT_AUTH": "oidc", "CHAT_OIDC_ISSUER": "https://idp.example.com", "CHAT_OIDC_CLIENT_ID": "c",
      "CHAT_OIDC_SCOPES": "email"}, "openid"),
    ({"CHAT_AUTH": "proxy", "CHAT_PROXY_HOPS": "1"}, "CHAT_AUTH_HEADER"),
    ({"CHAT_AUTH": "proxy", "CHAT_AUTH_HEADER": "X-Forwarded-Email"}, "CHAT_PROXY_HOPS"),
    ({**PROXY, "CHAT_AUTH_PROXY_ADDRESSES": "nginx"}, "not an address"),
    ({**PROXY, "CHAT_AUTH_PROXY_SECRET": ""}, "needs CHAT_AUTH_PROXY_SECRET"),
    ({**PROXY, "CHAT_AUTH_PROXY_SECRET": "x" * 31}, "needs CHAT_AUTH_PROXY_SECRET"),
    ({**PROXY, "CHAT_AUTH_PROXY_SECRET": "x" * 32 + '"; add_header X 1'}, "needs CHAT_AUTH_PROXY_SECRET"),
    ({**PROXY, "CHAT_AUTH_HEADER": "X-Email $chat_person;"}, "must be a header name"),
    ({"CHAT_ALLOWED_EMAILS": "a@example.com"}, "CHAT_AUTH=oidc or proxy"),
    ({"CHAT_API_KEYS": "k" * 32 + "=alice@example.com"}, "key=email"),
])
def test_a_mode_without_what_it_needs_stops_start_up(env, says):
    with pytest.raises(ConfigError, match=says):
        config_of(**env)


def test_proxy_mode_starts_with_a_strong_secret():
    config = config_of(**{**PROXY, "CHAT_AUTH_PROXY_SECRET": " " + "a1" * 32 + " "})
    assert config.auth == "proxy" and config.auth_proxy_secret == "a1" * 32


def test_settings_are_read_and_normalised():
    config = config_of(CHAT_AUTH="OIDC", CHAT_OIDC_ISSUER="https://idp.example.com/realms/team/",
                       CHAT_OIDC_CLIENT_ID="chat", CHAT_ALLOWED_EMAIL_DOMAINS="@Example.com, example.org",
                       CHAT_ALLOWED_EMAILS="Ann@Elsewhere.net")
    assert config.auth == "oidc" and config.oidc_issuer == "https://idp.example.com/realms/team"
    assert config.allowed_email_domains == ("example.com", "example.org")
    assert config.allowed_emails == ("ann@elsewhere.net",)
    local = config_of(CHAT_AUTH="oidc", CHAT_OIDC_ISSUER="http://localhost:9400", CHAT_OIDC_CLIENT_ID="c")
    assert local.oidc_issuer == "http://localhost:9400", "plain http only to this machine"


@pytest.mark.parametrize("email, allowed", [
    ("ann@example.com", True), ("ANN@Example.COM", True), ("bob@example.org", True),
    ("carl@sub.example.com", False), ("dan@example.com.evil.net", False), ("eve@evil.net", False),
    ("example.com", False), (None, False), ("", False),
])
def test_the_allow_lists(email, allowed):
    config = Config(allowed_email_domains=("example.com",), allowed_emails=("bob@example.org",))
    assert is_allowed(email, config) is allowed


@pytest.mark.parametrize("look_alike", [
    "ann@\u212Aernel.org",  # U+212A KELVIN SIGN, which str.lower() turns into "k"
    "ann@KERNEL.\u041ERG",  # Cyrillic O
    "\u212Aim@partner.net",
])
def test_look_alike_letters_do_not_pass_the_allow_lists(look_alike):
    config = Config(allowed_email_domains=("kernel.org",), allowed_emails=("kim@partner.net",))
    assert not is_allowed(look_alike, config)
    assert is_allowed("Ann@KERNEL.org", config) and is_allowed("KIM@partner.net", config)
    assert is_allowed("ann@xn--kernel-idna.org", Config(allowed_email_domains=("xn--kernel-idna.org",)))


def test_without_allow_lists_everyone_the_provider_signs_in_may_use_it():
    assert is_allowed(None, Config()) and is_allowed("anyone@anywhere.net", Config())
