"""A person whose conversations keep their storage allowance presses Send in
Chromium: the page says to delete old conversations, and keeps the draft."""

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import watched_page

TIMEOUT_MS = 30000
# 1,000 bytes: the first exchange (its question and the echo) takes it all.
ALLOWANCE = {"CHAT_STORAGE_PER_PERSON_MB": "0.001"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("allowance"), ALLOWANCE) as (base, _log, _process):
        yield base


def test_over_the_allowance_send_is_refused_with_the_reason_and_the_draft_is_kept(browser, server):
    with watched_page(browser, server + "/") as watched:
        page = watched.page
        page.fill("#message", "tell me everything " * 30)
        page.locator("#composer button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelectorAll('.message.assistant').length === 1"
            " && !document.querySelector('.message.outcome-streaming')", timeout=TIMEOUT_MS)

        page.fill("#message", "my next question, kept")
        page.locator("#composer button[type=submit]").click()
        page.wait_for_function("() => document.getElementById('composer-error').textContent.trim() !== ''",
                               timeout=TIMEOUT_MS)
        assert "delete some old conversations" in page.locator("#composer-error").inner_text()
        assert page.input_value("#message") == "my next question, kept"
        assert page.locator(".message.user").count() == 1
        # A refused request is an error to the browser's console; it is the point here.
        watched.errors[:] = [e for e in watched.errors if "413" not in e]
