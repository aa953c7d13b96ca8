"""Response hardening (security headers on every response) and a template helper for row links."""

from flask import Flask, current_app, url_for

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.jinja_env.globals["url_pattern"] = url_pattern


_MARKER = 918273645


def url_pattern(endpoint: str, param: str, **values) -> str:
    """url_for(endpoint, param=N) as a str.format pattern, so a list builds one URL, not one per row.

    url_pattern("specialist.edit_slot", "slot_id").format(7) == url_for("specialist.edit_slot", slot_id=7)
    """
    url = url_for(endpoint, **values, **{param: _MARKER})
    return url.replace("{", "{{").replace("}", "}}").replace(str(_MARKER), "{}")


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
