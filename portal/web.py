"""Response hardening: security headers, and the embedded demo kept to this computer."""

import ipaddress

from flask import Flask, current_app
from werkzeug.exceptions import NotFound

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    if app.config["EMBEDDED"]:
        app.wsgi_app = LoopbackOnly(app.wsgi_app)
    app.after_request(set_security_headers)


def set_security_headers(response):
    """CSP without inline code, no framing, no sniffing; HSTS when the portal is served over https."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["PUBLIC_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


def is_loopback(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (also written as ::ffff:127.x.y.z)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address((host or "").strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


class LoopbackOnly:
    """WSGI middleware of the embedded demo, which shows every email on /dev/mail: a request from another
    computer, or relayed by a proxy, gets a 404 before any of the portal runs, even if the demo was started on
    a public address by mistake."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR") or environ.get("HTTP_FORWARDED")
        if forwarded or not is_loopback(environ.get("REMOTE_ADDR")):
            return NotFound()(environ, start_response)
        return self.wsgi_app(environ, start_response)
