"""The attachment limits: settings checked at start, and nginx's body limit
at least what the app lets a message with its files be, so the app (not
nginx) says what is too large."""

import re
from pathlib import Path

import pytest

from app.config import ConfigError, load_config
from app.web.attachment_input import body_limit

NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def config(**env):
    return load_config({"CHAT_PROVIDER": "fake", "CHAT_DEBUG": "1", **env})


def test_nginx_takes_a_message_with_the_most_files_the_app_allows():
    size, unit = re.search(r"client_max_body_size (\d+)([kmg]?);", NGINX_CONF.read_text()).groups()
    assert int(size) * UNITS[unit] >= body_limit(config())


@pytest.mark.parametrize("env, named", [
    ({"CHAT_ATTACHMENT_MAX_MB": "25"}, "CHAT_ATTACHMENT_MAX_MB must be above 0 and at most 20"),
    ({"CHAT_ATTACHMENT_MAX_MB": "0"}, "CHAT_ATTACHMENT_MAX_MB"),
    ({"CHAT_ATTACHMENT_MAX_MB": "lots"}, "CHAT_ATTACHMENT_MAX_MB must be a number"),
    ({"CHAT_ATTACHMENTS_PER_MESSAGE": "11"}, "CHAT_ATTACHMENTS_PER_MESSAGE must be from 0"),
])
def test_limits_outside_what_vertex_ai_takes_stop_start_up_with_the_setting_named(env, named):
    with pytest.raises(ConfigError, match=named):
        config(**env)


def test_defaults_fit_vertex_ais_inline_request():
    defaults = config()
    assert defaults.attachment_max_mb * defaults.attachments_per_message <= 20
