"""Who uses the app (CHAT_AUTH): anonymous browsers, people signed in with an
OpenID Connect provider, or people named by an authenticating proxy in front.

`none` (the default) leaves the page as it always was: each browser owns its
conversations through an anonymous id (app/web/identity.py). In `oidc` and
`proxy` a person owns them (people.py), on any browser; the gate (gate.py)
puts their owner id where the page's views look for it, so the views do not
know the mode. This package knows sessions, people and providers; it must not
know how a conversation is shown or answered.
"""

from app.auth import account, gate


def init_auth(app):
    app.add_template_global(account.signed_in_person)
    app.add_template_global(account.claimable_conversations)
    config = app.config["CHAT"]
    if config.auth == "none":
        return
    if config.auth == "oidc":
        from app.auth import oidc

        oidc.register_provider(app)
        app.register_blueprint(oidc.bp)
    app.register_blueprint(account.bp)
    app.before_request(gate.require_person)
