"""Who may use the app once a provider or proxy has said who they are:
CHAT_ALLOWED_EMAILS and CHAT_ALLOWED_EMAIL_DOMAINS (both empty: everyone).

Addresses are compared with ASCII letters folded only: `str.lower()` folds
look-alikes too (U+212A KELVIN SIGN becomes "k"), so "ex\u212Ample.com"
would pass as "example.com". A domain that is not ASCII is refused; an
internationalised domain is listed and sent in its IDNA form (xn--...)."""

import string

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_email(email):
    """`email` stripped, its ASCII letters in lower case, nothing else folded."""
    return email.strip().translate(_ASCII_LOWER)


def is_allowed(email, config):
    """`email` (None if the person has none, or an unverified one) is listed,
    or its domain is; a domain does not take its subdomains."""
    if not config.allowed_emails and not config.allowed_email_domains:
        return True
    if not email:
        return False
    email = fold_email(email)
    local, at, domain = email.rpartition("@")
    if not (local and at and domain):
        return False  # no address at all (a proxy's user name)
    if not domain.isascii():
        return False
    return email in config.allowed_emails or domain in config.allowed_email_domains


def not_allowed_message(who):
    return (
        f"You are signed in as {who}, but this chat is open only to the people its operator allows. "
        "Ask them to add you (CHAT_ALLOWED_EMAILS or CHAT_ALLOWED_EMAIL_DOMAINS), or sign in with another account."
    )


def no_longer_allowed_message(who):
    return (
        f"Your sign-in has ended: this chat is no longer open to you ({who}). "
        "Ask its operator to add you again (CHAT_ALLOWED_EMAILS or CHAT_ALLOWED_EMAIL_DOMAINS), "
        "or sign in with another account."
    )
