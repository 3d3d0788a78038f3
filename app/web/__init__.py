"""The web: everything that speaks HTTP.

Blueprints for the page (`page`), the programs' API (`api`) and `/healthz`
(`health`), and what guards and shapes their requests and responses: input
checks, CSRF, the owner's identity, rate limits, headers and asset URLs. It
starts answers through `app.answers` and frames them through
`app.rendering`; it must not know how a model is read (that is
`app.providers`, behind `app.answers`) or write SQL of its own.
"""
