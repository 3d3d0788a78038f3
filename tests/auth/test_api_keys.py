"""API keys where people sign in: `key=email` ties a key's conversations to a
person's page, and then to that one person (issuer and subject), whoever
else later carries the email; `key=issuer|subject` names the person outright;
plain keys stay the operator's; no keys, no open API. Keys are long, kept as
an HMAC under SECRET_KEY, and guessing them is rate limited."""

import hashlib
import logging

import pytest
from sqlalchemy import select

from app.auth.api_keys import split_key_entry
from app.auth.api_keys import key_digest, key_owner
from app.auth.people import person_named, remove_person
from app.config import Config, ConfigError
from app.storage.engine import session_for
from app.storage.models import Conversation
from tests.auth.conftest import sign_in
from tests.conftest import API_KEY, api_client

OPERATOR_KEY = "operator-key-" + "o" * 30
ALICE_KEY = "alice-key-" + "a" * 30
KEYS = (OPERATOR_KEY, f"{ALICE_KEY}=Alice@Example.com")
LONG = "k" * 32


@pytest.mark.parametrize("entry, split", [
    ("plain-key", ("plain-key", None)),
    ("k=alice@example.com", ("k", "alice@example.com")),
    ("base64+key==", ("base64+key==", None)),
    ("base64+key===bob@example.org", ("base64+key==", "bob@example.org")),
    ("a=b", ("a=b", None)),
    # a person named outright: the issuer, "|", and the provider's subject (which may hold anything)
    ("k=https://idp.example.com/realms/team|1234-abcd", ("k", ("https://idp.example.com/realms/team", "1234-abcd"))),
    ("k==https://idp.example.com|a=b|c", ("k=", ("https://idp.example.com", "a=b|c"))),
    ("k=proxy|alice@example.com", ("k", ("proxy", "alice@example.com"))),
])
def test_key_entries(entry, split):
    assert split_key_entry(entry) == split


def new_conversation(program, message):
    return program.post("/api/chat", json={"message": message, "conversation_id": "new"})


def test_a_key_tied_to_a_person_puts_its_conversations_on_their_page(oidc_app, provider):
    app = oidc_app(api_keys=KEYS)
    program = api_client(app, ALICE_KEY)
    refused = new_conversation(program, "hi")
    assert refused.status_code == 403 and "has not signed in" in refused.json["error"]

    browser = app.test_client()
    sign_in(browser, provider, "alice@example.com")
    started = new_conversation(program, "Summarise the logs")
    assert started.status_code == 200
    conversation_id = started.json["conversation_id"]
    assert "Summarise the logs" in browser.get("/").get_data(as_text=True)
    assert browser.get(f"/c/{conversation_id}").status_code == 200
    # and the page's conversations are the program's to continue
    page_started = browser.post("/messages", data={"message": "From the page"}).location.split("#")[0]
    page_conversation = page_started.rsplit("/", 1)[1]
    more = program.post("/api/chat", json={"message": "more", "conversation_id": page_conversation})
    assert more.status_code == 200


def test_a_second_account_carrying_the_email_does_not_take_the_key(oidc_app, provider):
    # Providers that never send email_verified let anyone open an account with alice's address.
    app = oidc_app(api_keys=KEYS)
    alice, mallory, program = app.test_client(), app.test_client(), api_client(app, ALICE_KEY)
    sign_in(alice, provider, "alice-account", email="alice@example.com")
    assert new_conversation(program, "First report").status_code == 200  # the key is now alice's

    sign_in(mallory, provider, "mallory-account", email="alice@example.com")  # seen last
    later = new_conversation(program, "Quarterly figures")
    assert later.status_code == 200
    assert "Quarterly figures" in alice.get("/").get_data(as_text=True)
    mallorys_page = mallory.get("/").get_data(as_text=True)
    assert "Quarterly figures" not in mallorys_page and "First report" not in mallorys_page
    assert mallory.get(f"/c/{later.json['conversation_id']}").status_code == 404


def test_once_its_person_is_removed_the_key_does_not_pass_to_the_next_carrier_of_the_email(oidc_app, provider):
    app = oidc_app(api_keys=KEYS)
    program = api_client(app, ALICE_KEY)
    sign_in(app.test_client(), provider, "alice-account", email="alice@example.com")
    assert new_conversation(program, "bound").status_code == 200
    with session_for(app) as db:
        remove_person(db, person_named(db, provider.issuer, "alice-account"))
    sign_in(app.test_client(), provider, "mallory-account", email="alice@example.com")
    refused = new_conversation(program, "hi")
    assert refused.status_code == 403 and "no longer a user here" in refused.json["error"]


def test_an_email_two_people_carry_at_first_use_is_refused_until_the_operator_names_one(
        oidc_app, provider, caplog):
    app = oidc_app(api_keys=KEYS)
    sign_in(app.test_client(), provider, "alice-account", email="alice@example.com")
    sign_in(app.test_client(), provider, "mallory-account", email="alice@example.com")
    with caplog.at_level(logging.WARNING):
        refused = new_conversation(api_client(app, ALICE_KEY), "hi")
    assert refused.status_code == 403
    assert "several people" in refused.json["error"] and "CHAT_API_KEYS" in refused.json["error"]
    assert ALICE_KEY not in refused.json["error"]
    # the log tells the operator what to write, and never the key
    assert f"{provider.issuer}|alice-account" in caplog.text and f"{provider.issuer}|mallory-account" in caplog.text
    assert ALICE_KEY not in caplog.text

    named = oidc_app(api_keys=(f"{ALICE_KEY}={provider.issuer}|alice-account",))
    alice = named.test_client()
    sign_in(alice, provider, "alice-account", email="alice@example.com")
    sign_in(named.test_client(), provider, "mallory-account", email="alice@example.com")
    started = new_conversation(api_client(named, ALICE_KEY), "Named outright")
    assert started.status_code == 200
    assert "Named outright" in alice.get("/").get_data(as_text=True)


def test_a_plain_key_stays_the_operators(oidc_app, provider):
    app = oidc_app(api_keys=KEYS)
    browser = app.test_client()
    sign_in(browser, provider, "alice@example.com")
    started = api_client(app, OPERATOR_KEY).post("/api/chat", json={"message": "Nightly job", "conversation_id": "new"})
    assert started.status_code == 200
    assert "Nightly job" not in browser.get("/").get_data(as_text=True)
    assert browser.get(f"/c/{started.json['conversation_id']}").status_code == 404
    assert api_client(app, "wrong-key-" + "w" * 30).post("/api/chat", json={"message": "x"}).status_code == 401


def test_where_people_sign_in_an_api_without_keys_is_closed(oidc_app):
    client = oidc_app().test_client()
    response = client.post("/api/chat", json={"message": "hi"})
    assert response.status_code == 403
    assert "CHAT_API_KEYS" in response.json["error"]


@pytest.mark.parametrize("keys, position", [
    (("Zq7wP",), "1 of 1"),
    ((LONG, "k" * 31 + "=alice@example.com"), "2 of 2"),
    ((LONG, LONG + "x", "tiny=proxy|alice"), "3 of 3"),
])
def test_a_short_key_stops_start_up_naming_its_place_not_the_key(oidc_app, keys, position):
    with pytest.raises(ConfigError) as refused:
        oidc_app(api_keys=keys)
    message = str(refused.value)
    assert f"CHAT_API_KEYS: key {position}" in message and "32 characters" in message
    assert "secrets.token_urlsafe(32)" in message
    short = next(split_key_entry(entry)[0] for entry in keys if len(split_key_entry(entry)[0]) < 32)
    assert short not in message


def test_a_leaked_database_holds_no_unsalted_hash_of_a_key(make_app):
    app = make_app(api_keys=(API_KEY,), secret_key="one-secret-key-" + "s" * 20)
    assert new_conversation(api_client(app), "hi").status_code == 200
    with session_for(app) as db:
        owner = db.scalar(select(Conversation.owner_id))
    assert owner.startswith("key:")
    assert hashlib.sha256(API_KEY.encode()).hexdigest()[:32] not in owner
    # under another SECRET_KEY the same key names another owner
    other = make_app(api_keys=(API_KEY,), secret_key="another-secret-key-" + "t" * 20)
    assert key_owner(key_digest(other.config["CHAT"].secret_key, API_KEY)) != owner


def test_a_keys_conversations_from_before_the_hmac_stay_its_own(make_app):
    # Stored under the unsalted SHA-256 the key's owner used to be named by.
    app = make_app(api_keys=(API_KEY,))
    program = api_client(app)
    with session_for(app) as db:
        legacy = Conversation(owner_id="key:" + hashlib.sha256(API_KEY.encode()).hexdigest()[:32], title="Old work")
        db.add(legacy)
        db.commit()
        legacy_id = legacy.id
    again = program.post("/api/chat", json={"message": "still mine?", "conversation_id": str(legacy_id)})
    assert again.status_code == 200


def test_guessing_keys_is_answered_429_per_address_and_ipv6_slash_64(make_app):
    app = make_app(api_keys=(API_KEY,), rate_failed_auth_per_hour=Config.rate_failed_auth_per_hour)
    guesser = api_client(app, "guess-" + "g" * 30)
    statuses = [guesser.post("/api/chat", json={"message": "x"}).status_code for _ in range(100)]
    assert 429 in statuses, "a client guessing keys was never slowed down"
    first_refusal = statuses.index(429)
    assert first_refusal == Config.rate_failed_auth_per_hour
    assert set(statuses[:first_refusal]) == {401} and set(statuses[first_refusal:]) == {429}
    refused = guesser.post("/api/chat", json={"message": "x"})
    assert int(refused.headers["Retry-After"]) > 0 and "API key" in refused.json["error"]
    # while it is blocked, even the right key from that address waits: a guess that
    # lands must not be told apart from one that misses
    assert api_client(app).post("/api/chat", json={"message": "x"}).status_code == 429
    elsewhere = api_client(app)
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.post("/api/chat", json={"message": "x"}).status_code == 200

    # IPv6: one customer's /64 is one address
    for suffix in range(first_refusal):
        v6 = api_client(app, "guess-" + "g" * 30)
        v6.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{suffix + 1:x}"
        assert v6.post("/api/chat", json={"message": "x"}).status_code == 401
    same_64 = api_client(app)
    same_64.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::1"
    assert same_64.post("/api/chat", json={"message": "x"}).status_code == 429
    next_64 = api_client(app)
    next_64.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert next_64.post("/api/chat", json={"message": "x"}).status_code == 200
