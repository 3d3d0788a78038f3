"""Headers: security headers on every response, and those of every streamed one."""

# For every streamed response: no cache keeps a copy (`no-store`: `no-cache`
# would let a browser or proxy store a private answer and only revalidate
# it), and nginx passes each piece on as it comes instead of buffering it.
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

# No inline scripts or styles anywhere; htmx is configured without eval (no
# hx-on, no js: expressions), so 'unsafe-eval' is not needed either.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",  # blob: the composer's thumbnails of files not yet sent
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# For a document the page itself shows in a frame (the answer streaming
# without JavaScript): this origin may frame it, no other.
FRAMEABLE_HERE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
    "X-Frame-Options": "SAMEORIGIN",
}


def add_security_headers(response):
    if response.mimetype == "text/html":
        # A page holds a person's conversations: no cache keeps a copy, and
        # Back shows the conversation as it is now, not as it was.
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
