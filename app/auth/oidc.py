"""CHAT_AUTH=oidc: signing in with an OpenID Connect provider, through Authlib.

Authlib does the protocol: the authorization code flow with PKCE (S256),
a random `state` and `nonce` kept in the session and checked on the way
back, the code exchanged for tokens server to server, and the ID token's
signature verified against the provider's published keys (and its issuer,
audience, expiry and nonce checked). The provider's discovery document must
name the issuer configured, so a look-alike cannot stand in for it.
A person is the issuer and the ID token's `sub`; email and name are shown.
"""

import logging
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from app.auth.allow_lists import fold_email, is_allowed, not_allowed_message
from app.auth.people import person_signing_in
from app.auth.sessions import signed_in_person, start_signed_in_session
from app.refusals import refusal_response
from app.storage.engine import session_for

log = logging.getLogger(__name__)

bp = Blueprint("sign_in", __name__)

CLIENT_NAME = "oidc"  # Authlib keeps its state in the session under _state_oidc_...
NEXT = "sign_in_next"  # where to go once signed in
# A provider that does not answer within this is reported, not waited for.
PROVIDER_TIMEOUT = 10

UNREACHABLE = "The sign-in provider could not be reached, so you cannot sign in just now. Try again in a minute."
WRONG_ISSUER = "The sign-in provider is not the one this chat is set up for, so signing in was stopped."
NO_ID_TOKEN = "The sign-in provider did not say who you are (no ID token), so you are not signed in."


class ProviderMismatch(Exception):
    """The discovery document names another issuer than CHAT_OIDC_ISSUER."""


def register_provider(app):
    config = app.config["CHAT"]
    client_kwargs = {"scope": config.oidc_scopes, "code_challenge_method": "S256", "default_timeout": PROVIDER_TIMEOUT}
    if not config.oidc_client_secret:
        client_kwargs["token_endpoint_auth_method"] = "none"  # a public client: PKCE alone
    OAuth(app).register(
        CLIENT_NAME,
        client_id=config.oidc_client_id,
        client_secret=config.oidc_client_secret or None,
        server_metadata_url=f"{config.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
    )


def provider():
    """Authlib's client, its discovery document loaded (once per process) and checked."""
    client = getattr(current_app.extensions["authlib.integrations.flask_client"], CLIENT_NAME)
    issuer = client.load_server_metadata().get("issuer", "")
    if issuer.rstrip("/") != current_app.config["CHAT"].oidc_issuer:
        log.error("the provider at CHAT_OIDC_ISSUER=%s calls itself %r", current_app.config["CHAT"].oidc_issuer, issuer)
        raise ProviderMismatch()
    return client


def local_target(target):
    """A path on this site to go to after signing in; anything else (another
    site, a scheme-relative //host, control characters) is the chat's start."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    return target


def provider_label():
    return urlsplit(current_app.config["CHAT"].oidc_issuer).hostname or "your provider"


@bp.get("/sign-in")
def sign_in_page():
    target = local_target(request.args.get("next"))
    with session_for(current_app) as db:
        if signed_in_person(db) is not None:
            return redirect(target, code=303)
    return sign_in_page_for(target, signed_out=request.args.get("signed_out") == "1")


def sign_in_page_for(target, signed_out=False, notice=None):
    """The sign-in page, coming back to `target`; `notice` says why it is shown."""
    return render_template("sign_in.html", target=local_target(target), provider=provider_label(),
                           signed_out=signed_out, notice=notice)


@bp.get("/sign-in/start")
def start():
    try:
        client = provider()
    except (requests.RequestException, ValueError) as error:
        log.warning("could not load the provider's discovery document: %s", error)
        return refusal_response(502, UNREACHABLE, heading="Cannot sign in")
    except ProviderMismatch:
        return refusal_response(502, WRONG_ISSUER, heading="Cannot sign in")
    session[NEXT] = local_target(request.args.get("next"))
    forget_old_attempts()
    return client.authorize_redirect(url_for("sign_in.callback", _external=True))


# Authlib keeps each attempt's state (an hour) in the session cookie, which
# holds 4 KB: a person pressing Sign in again and again would overflow it.
# The last attempts are kept, for sign-ins from two tabs at once.
ATTEMPTS_KEPT = 2


def forget_old_attempts():
    prefix = f"_state_{CLIENT_NAME}_"
    attempts = sorted((key for key in session if key.startswith(prefix)), key=lambda key: session[key].get("exp", 0))
    for key in attempts[: max(0, len(attempts) - (ATTEMPTS_KEPT - 1))]:
        session.pop(key)


def verified_email(claims):
    """The email the provider vouches for. When it says whether it verified
    it, only `true` (or the string "true", as some providers send it) is a
    yes: "false", "False", 0, "0", "no" and anything else are not. (Some
    providers, Microsoft Entra among them, never send email_verified.)"""
    email = claims.get("email")
    if not isinstance(email, str) or ("email_verified" in claims and not _says_true(claims["email_verified"])):
        return None
    return fold_email(email)[:320] or None


def _says_true(value):
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def display_name(claims):
    name = claims.get("name") or claims.get("preferred_username")
    if not isinstance(name, str):
        return None
    return name.strip()[:200] or None


@bp.get("/sign-in/callback")
def callback():
    """The provider sends the browser back here with a code (or an error)."""
    try:
        client = provider()
        token = client.authorize_access_token()
    except OAuthError as error:
        # Also a missing or foreign state (MismatchingStateError): a stale tab, or a forged callback.
        # `error` and its description may be anyone's words (a crafted link):
        # logged escaped and bounded, never shown on the site's page.
        log.info("sign-in refused: %.100r %.300r", error.error, error.description)
        if error.error == "access_denied":
            message = "The sign-in provider did not let you in (or you declined), so you are not signed in."
        else:
            message = "Signing in did not complete. Try again."
        return refusal_response(400, message, heading="Not signed in")
    except requests.RequestException as error:
        log.warning("could not complete sign-in with the provider: %s", error)
        return refusal_response(502, UNREACHABLE, heading="Cannot sign in")
    except (JoseError, ValueError) as error:
        # A signature that does not match the provider's keys, another
        # audience or issuer, an expired token, a nonce of another sign-in.
        log.warning("the provider's ID token did not verify: %r", error)
        return refusal_response(502, "The sign-in provider's answer did not verify, so you are not signed in.",
                                heading="Not signed in")
    except ProviderMismatch:
        return refusal_response(502, WRONG_ISSUER, heading="Cannot sign in")
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        return refusal_response(502, NO_ID_TOKEN, heading="Not signed in")
    email, name = verified_email(claims), display_name(claims)
    config = current_app.config["CHAT"]
    if not is_allowed(email, config):
        log.info("sign-in refused by the allow-lists")
        return refusal_response(403, not_allowed_message(name or email or claims["sub"]), heading="Not allowed here")
    target = local_target(session.get(NEXT))
    with session_for(current_app) as db:
        person = person_signing_in(db, claims["iss"], str(claims["sub"])[:255], email, name)
        start_signed_in_session(db, person)
    log.info("person %s signed in", person.id)
    return redirect(target, code=303)
