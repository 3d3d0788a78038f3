"""Running the app in production: Prometheus metrics, request ids, logs.

It may know Flask and the answers' events, but nothing here changes what a
person sees, save the request id quoted in an error ("reference: ...").
"""
