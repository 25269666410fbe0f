"""Security headers on every response: pages, HTMX fragments, the API, downloads and error pages alike.

The Content-Security-Policy allows scripts and styles from this site only: there is no inline <script>, no
on*= handler and no style= attribute or <style> block in any page (htmx's own indicator styles are switched
off in base.html and live in app.css). Chart.js and htmx set styles from script through the CSSOM, which
style-src does not govern. Invoices and packing slips keep their <style> blocks: WeasyPrint reads them on the
server and no browser ever loads them as a page.
"""
from flask import Flask, current_app, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for the blank favicon, so browsers stop asking for /favicon.ico
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

# Nothing here needs a camera, microphone, location, payment or USB; say so, so an injected frame cannot ask.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "camera", "microphone", "geolocation", "payment", "usb"))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Signed customer links carry their token in the URL: never hand it to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response):
    """Set the headers unless a view chose its own (setdefault)."""
    # One pass over the headers rather than a lookup per header (a miss raises and catches a KeyError inside).
    chosen = {name.lower() for name in response.headers.keys()}
    response.headers.extend([(name, value) for name, value in HEADERS.items() if name.lower() not in chosen])
    # Only over HTTPS (as the proxy reports it when TRUSTED_PROXY_COUNT is set): over plain HTTP browsers ignore
    # it, and a laptop at http://127.0.0.1 must never be told to insist on HTTPS.
    seconds = current_app.config["HSTS_SECONDS"]
    if request.is_secure and seconds:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response
